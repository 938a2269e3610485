// The test shop has no node_modules of its own: it runs on the plugin package's dev
// dependencies (one install, one copy of @vendure/core shared by the shop and the plugin).
const path = require('path');
const { createRequire } = require('module');
const pluginDir = path.join(__dirname, '..', 'vendure-plugin');
exports.pluginDir = pluginDir;
exports.requireDep = createRequire(path.join(pluginDir, 'package.json'));
