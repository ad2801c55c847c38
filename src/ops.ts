// The public loss ops (one file per kind under src/losses/).
export * from './losses';
