/**
 * The translation domain of this extension's texts, as JupyterLab's own
 * packages have theirs (`translator.load('jupyterlab')`).
 */
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

export type { TranslationBundle };

export const TRANSLATION_DOMAIN = 'nbqueue';

/** The bundle of this extension's texts; English when no translator is given. */
export function nbqueueBundle(
  translator?: ITranslator | null
): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}
