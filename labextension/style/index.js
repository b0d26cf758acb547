import './base.css';
import './metrics.css';
import './panel.css';
import './table.css';
