import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * No Docker engine runs here, so `docker compose up` cannot be tried: this reads
 * docker-compose.yml as compose would and checks what the LocalStack deployment relies on
 * (names, pinned images, ports, the shared network, the mounts and the folders they point at).
 */

interface ComposeService {
  image?: string;
  ports?: (string | { published?: string | number; target?: number })[];
  environment?: Record<string, string | number | null> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  networks?: string[] | Record<string, unknown>;
  healthcheck?: { test?: string | string[] };
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, { name?: string } | null>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;

const WIREMOCKS = {
  'wiremock-payment': { port: 8081, folder: 'wiremock/payment' },
  'wiremock-inventory': { port: 8082, folder: 'wiremock/inventory' },
  'wiremock-order': { port: 8083, folder: 'wiremock/order' },
} as const;

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Host port → container port, from both the short ("127.0.0.1:5442:5432") and long syntax. */
function publishedPorts(svc: ComposeService): Map<number, number> {
  const ports = new Map<number, number>();
  for (const entry of svc.ports ?? []) {
    if (typeof entry === 'string') {
      const parts = entry.split('/')[0]?.split(':') ?? [];
      const container = Number(parts.at(-1));
      const host = Number(parts.at(-2) ?? container);
      ports.set(host, container);
    } else if (entry.published !== undefined && entry.target !== undefined) {
      ports.set(Number(entry.published), entry.target);
    }
  }
  return ports;
}

function environment(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => [line.split('=')[0] ?? '', line.split('=').slice(1).join('=')]),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
}

/** Bind mounts and volumes as { source, target } ("./a:/b:ro" → ./a, /b). */
function mounts(svc: ComposeService): { source: string; target: string }[] {
  return (svc.volumes ?? []).map((entry) => {
    if (typeof entry !== 'string')
      return { source: entry.source ?? '', target: entry.target ?? '' };
    const [source = '', target = ''] = entry.split(':');
    return { source, target };
  });
}

function networksOf(svc: ComposeService): string[] {
  if (!svc.networks) return [];
  return Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks);
}

const isLocalPath = (source: string) => source.startsWith('./') || source.startsWith('../');

describe('docker-compose.yml', () => {
  it('defines postgres, the three WireMocks and LocalStack under the names the CDK stack uses', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['localstack', 'postgres', 'wiremock-inventory', 'wiremock-order', 'wiremock-payment'].sort(),
    );
  });

  it('pins every image to a version tag, never latest', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const tag = svc.image?.split(':')[1];
      expect(tag, `${name} image ${svc.image}`).toMatch(/^\d/);
      expect(tag, name).not.toMatch(/latest/);
    }
  });

  it('pins LocalStack to 4.14.0, the last community tag, with the auth token optional', () => {
    const localstack = service('localstack');
    expect(localstack.image).toBe('localstack/localstack:4.14.0');
    // Taken from the shell or .env when set, never written in the file.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation, not JS
    expect(environment(localstack).LOCALSTACK_AUTH_TOKEN).toBe('${LOCALSTACK_AUTH_TOKEN:-}');
  });

  it('runs the same WireMock version as the npm jar that npm start and the tests use', () => {
    const { version } = JSON.parse(
      readFileSync(path.join(ROOT, 'node_modules/wiremock/package.json'), 'utf8'),
    ) as { version: string };
    for (const name of Object.keys(WIREMOCKS)) {
      expect(service(name).image).toBe(`wiremock/wiremock:${version}`);
    }
  });

  it('publishes PostgreSQL on 5442, WireMock on 8081–8083 and LocalStack on 4566', () => {
    expect(publishedPorts(service('postgres')).get(5442)).toBe(5432);
    for (const [name, { port }] of Object.entries(WIREMOCKS)) {
      expect(publishedPorts(service(name)).get(port), name).toBe(8080);
    }
    expect(publishedPorts(service('localstack')).get(4566)).toBe(4566);
  });

  it('creates the seed database and says when PostgreSQL is ready', () => {
    const postgres = service('postgres');
    expect(environment(postgres)).toMatchObject({
      POSTGRES_DB: 'checkout_db',
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: 'postgres',
    });
    expect([postgres.healthcheck?.test].flat().join(' ')).toContain('pg_isready');
  });

  it('puts every service on one network whose real name is LAMBDA_DOCKER_NETWORK', () => {
    const [key, ...others] = Object.keys(compose.networks ?? {});
    expect(key, 'one top-level network').toBeDefined();
    expect(others).toEqual([]);
    // Without `name:`, compose prefixes the project name and LocalStack would not find it.
    const realName = compose.networks?.[key as string]?.name ?? `${compose.name}_${key}`;
    expect(realName).toBe('checkout');
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(networksOf(svc), name).toContain(key);
    }
    expect(environment(service('localstack')).LAMBDA_DOCKER_NETWORK).toBe(realName);
  });

  it('gives LocalStack the Docker socket, so it can run Lambdas in containers', () => {
    expect(mounts(service('localstack'))).toContainEqual({
      source: '/var/run/docker.sock',
      target: '/var/run/docker.sock',
    });
  });

  it('starts the AWS services that cdklocal bootstrap and the stack need', () => {
    const services = environment(service('localstack')).SERVICES?.split(',') ?? [];
    for (const needed of ['cloudformation', 'iam', 'sts', 'ssm', 's3', 'lambda', 'apigateway']) {
      expect(services).toContain(needed);
    }
    for (const needed of ['logs', 'events', 'cloudwatch']) expect(services).toContain(needed);
  });

  it('starts LocalStack after the database and the mocks are healthy', () => {
    const dependsOn = service('localstack').depends_on as Record<string, { condition?: string }>;
    for (const name of ['postgres', ...Object.keys(WIREMOCKS)]) {
      expect(dependsOn?.[name]?.condition, name).toBe('service_healthy');
    }
  });

  it('mounts the init hooks of localstack/ready.d, each an executable script', () => {
    const hooks = mounts(service('localstack')).find(
      (m) => m.target === '/etc/localstack/init/ready.d',
    );
    expect(hooks, 'a mount on /etc/localstack/init/ready.d').toBeDefined();
    const folder = path.join(ROOT, hooks?.source ?? '');
    expect(isLocalPath(hooks?.source ?? '')).toBe(true);
    expect(statSync(folder).isDirectory()).toBe(true);
    const scripts = readdirSync(folder).filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const file = path.join(folder, script);
      // LocalStack runs only executable shell scripts that start with a shebang.
      expect(() => accessSync(file, constants.X_OK), `${script} is executable`).not.toThrow();
      expect(readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/(ba)?sh/);
    }
  });

  it('mounts each service folder of wiremock/ where the image reads mappings/*.json', () => {
    for (const [name, { folder }] of Object.entries(WIREMOCKS)) {
      const svc = service(name);
      const root = mounts(svc).find((m) => m.target === '/home/wiremock');
      expect(root?.source, name).toBe(`./${folder}`);
      const mappings = path.join(ROOT, folder, 'mappings');
      const files = existsSync(mappings) ? readdirSync(mappings) : [];
      expect(files.filter((f) => f.endsWith('.json')).length, name).toBeGreaterThan(0);
      for (const file of files) {
        expect(() => JSON.parse(readFileSync(path.join(mappings, file), 'utf8'))).not.toThrow();
      }
      // The 8–15 s fault delays must not hold WireMock's request threads (as in `npm start`).
      expect([svc.command].flat()).toContain('--async-response-enabled=true');
    }
  });
});
