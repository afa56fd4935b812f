// Node-RED's settings for the node-red benchmark: headless (no editor, no HTTP server), the flow file and
// every number that varies from run to run given by the benchmark through the environment (flow.json).
module.exports = {
  flowFile: process.env.NR_FLOW_FILE,
  credentialSecret: false,
  httpAdminRoot: false,
  httpNodeRoot: false,
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  logging: { console: { level: 'warn', metrics: false, audit: false } },
};
