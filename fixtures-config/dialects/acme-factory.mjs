// An example second eUICC dialect (docs/integrator-guide.md, "eUICC dialects"): a made-up chip
// family "ACME" whose factory requests keep the project's structure but use other tags
// (BF60..BF63) and result codes, and which wants STORE DATA blocks of at most 200 bytes with
// Le=00 on the last one. Plain data: the station builds the encoders from it. Select it in a
// station config with  "loading": { "dialect": "./dialects/acme-factory.mjs" }.
export default {
  name: 'acme-factory/1',
  factoryTags: { getFactoryInfo: 0xbf60, prepareFactoryLoad: 0xbf61, deleteOneTimeKeys: 0xbf62, closeFpaServices: 0xbf63 },
  resultCodes: { ok: 0, invalidCertificate: 10, unknownOneTimeKey: 11, keyAlreadyUsed: 12, fpaServicesClosed: 13, nothingToDelete: 14, undefinedError: 127 },
  maxBlockSize: 200,
  storeDataLe: true,
};
