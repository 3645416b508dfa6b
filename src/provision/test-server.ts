import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { cacheDir, findOnPath, isExecutable, log, PROJECT_ROOT, run, timed } from './common';

const POM = path.join(PROJECT_ROOT, 'scripts', 'test-server', 'pom.xml');
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

/** The test server version pinned in scripts/test-server/pom.xml. */
export function testServerVersion(): string {
  const match = /<artifactId>temporal-test-server<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(readFileSync(POM, 'utf8'));
  if (!match) {
    throw new Error(`${POM} does not pin a temporal-test-server version.`);
  }
  return match[1];
}

function installDir(env: NodeJS.ProcessEnv): string {
  return path.join(cacheDir(env), 'temporal-test-server', testServerVersion());
}

/** Path of the launcher script that takes `<port>` like the SDK's downloaded test server. */
export function testServerLauncherPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(installDir(env), 'temporal-test-server');
}

/**
 * The launcher starts the JVM for a fast start, because the SDK waits only a
 * few seconds for the port: C1 only, serial GC, and the class-data-sharing
 * archive that provisioning records on the first run.
 */
function launcherScript(dir: string, classpath: string): string {
  return `#!/bin/sh
# Temporal's time-skipping test server, written by scripts/provision.ts.
# Usage: temporal-test-server <port> [--enable-time-skipping]
dir='${dir}'
java_bin="\${JAVA_HOME:+$JAVA_HOME/bin/}java"
archive="$dir/classes.jsa"
cds=""
if [ -n "$GMAIL_SYNC_TEST_SERVER_RECORD_CDS" ]; then
  cds="-XX:ArchiveClassesAtExit=$archive"
elif [ -f "$archive" ]; then
  cds="-XX:SharedArchiveFile=$archive"
fi
exec "$java_bin" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xlog:cds=off -Xlog:cds+dynamic=off $cds \\
  -cp '${classpath}' ${MAIN_CLASS} "$@"
`;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) {
          reject(new Error(`the test server did not listen on port ${port} within ${timeoutMs} ms`));
        } else {
          setTimeout(attempt, 100);
        }
      });
    };
    attempt();
  });
}

/** Starts the server once with ArchiveClassesAtExit, so later starts load classes from the archive. */
async function recordClassArchive(launcher: string): Promise<void> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(launcher, [String(port)], {
    stdio: 'ignore',
    env: { ...process.env, GMAIL_SYNC_TEST_SERVER_RECORD_CDS: '1' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 60_000);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export type TestServer = { kind: 'path'; path: string } | { kind: 'download' };

/**
 * Returns the time-skipping test server launcher, fetching the server and its
 * dependencies from Maven Central into the cache when missing. Without Maven
 * and Java it falls back to @temporalio/testing's download.
 */
export async function provisionTestServer(env: NodeJS.ProcessEnv = process.env): Promise<TestServer> {
  const launcher = testServerLauncherPath(env);
  if (isExecutable(launcher)) {
    log(`time-skipping test server: ${launcher} (from cache)`);
    return { kind: 'path', path: launcher };
  }
  const mvn = findOnPath('mvn', env);
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : findOnPath('java', env);
  if (!mvn || !java || !existsSync(java)) {
    log('time-skipping test server: Maven or Java is missing; @temporalio/testing will download the server (needs internet).');
    return { kind: 'download' };
  }

  const dir = installDir(env);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await timed(`time-skipping test server: mvn dependency:copy-dependencies into ${dir}`, () =>
    run(mvn, ['-B', '-q', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(staging, 'lib')}`, '-DincludeScope=runtime']),
  );

  // The class list is explicit and sorted, because the class-data-sharing archive only applies to the same classpath.
  const jars = readdirSync(path.join(staging, 'lib')).filter((name) => name.endsWith('.jar')).sort();
  const classpath = jars.map((name) => path.join(dir, 'lib', name)).join(':');
  writeFileSync(path.join(staging, 'temporal-test-server'), launcherScript(dir, classpath));
  chmodSync(path.join(staging, 'temporal-test-server'), 0o755);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);

  await timed('time-skipping test server: recording the class-data-sharing archive', () => recordClassArchive(launcher));
  return { kind: 'path', path: launcher };
}
