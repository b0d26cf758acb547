// plotly.js-dist-min ships no types; ./plotly.ts says what is used of it.
declare module 'plotly.js-dist-min';
