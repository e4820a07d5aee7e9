// Loaded before every test file.
import '../../src/local/polyfill.js';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
