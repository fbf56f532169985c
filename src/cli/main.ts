#!/usr/bin/env node
// Placeholder entry point until the CLI lands (issue 5).
process.stderr.write('kube-event-shipper: the CLI is not built yet\n');
process.exitCode = 1;
