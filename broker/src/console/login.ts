import { JaasSyntaxError, parseJaasOptions } from "../security/plain.js";

/** The console's own login (http.console.sasl.jaas.config): a username and a password in a JAAS line. */

export function consoleLogin(jaas: string | undefined): { username: string; password: string } | undefined {
  if (jaas === undefined || jaas.trim() === "") return undefined;
  const { options } = parseJaasOptions(jaas);
  const username = options.get("username");
  const password = options.get("password");
  if (username === undefined || password === undefined)
    throw new JaasSyntaxError('needs username="..." and password="..."');
  return { username, password };
}

/** Config table check: a JAAS line with a username and a password. */
export function consoleLoginCheck(value: string): string | undefined {
  try {
    consoleLogin(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
