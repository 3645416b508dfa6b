import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log warnings and errors only, so test output stays readable.
Runtime.install({ logger: new DefaultLogger('WARN') });

// No test may reach the GCE metadata server: Google clients skip it when told
// there is none, instead of probing 169.254.169.254.
process.env.METADATA_SERVER_DETECTION = 'none';
