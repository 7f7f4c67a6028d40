import { runCheckoutsCli } from '../../scripts/checkouts.ts';

/** `npm run checkouts` in this process, for what needs no child: its exit code and output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  let stdout = '';
  let stderr = '';
  const code = await runCheckoutsCli(args, {
    env,
    stdout: (text) => {
      stdout += `${text}\n`;
    },
    stderr: (text) => {
      stderr += `${text}\n`;
    },
  });
  return { code, stdout, stderr };
}
