import { IConstruct } from 'constructs';
import { ValidationError } from './validation-error';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IPV4 = /^[0-9]+(\.[0-9]+){3}$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

/**
 * Whether `value` is an RFC 1123 DNS label (Service, Namespace and container
 * names): lower case alphanumerics and '-', at most `maxLength` characters.
 */
export function isDnsLabel(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS_LABEL.test(value);
}

/** Checks that `value` is an RFC 1123 DNS label; see {@link isDnsLabel}. */
export function checkDnsLabel(scope: IConstruct, what: string, value: string): string {
  if (!isDnsLabel(value)) {
    ValidationError.fail(scope, `${what} "${value}" is not a valid DNS-1123 label: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
  return value;
}

/** Checks that `value` is an RFC 1123 DNS subdomain (most object names). */
export function checkDnsSubdomain(scope: IConstruct, what: string, value: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" is not a valid DNS-1123 subdomain: use at most 253 lower-case letters, digits, '-' and '.'`);
  }
  return value;
}

/**
 * Checks that `value` is a label key: an optional DNS subdomain prefix and
 * '/', then a name of at most 63 letters, digits, '-', '_' and '.'.
 */
export function checkLabelKey(scope: IConstruct, what: string, value: string): string {
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = value.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixOk || name.length > 63 || !LABEL_NAME.test(name)) {
    ValidationError.fail(scope, `${what} "${value}" is not a valid label key: write it like "topology.kubernetes.io/zone" `
      + "(an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' and '.')");
  }
  return value;
}

/** Checks that `value` is a TCP port number (1-65535). */
export function checkPort(scope: IConstruct, what: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    ValidationError.fail(scope, `${what} ${value} is not a valid port: use an integer from 1 to 65535`);
  }
  return value;
}

/** Checks that `value` is an integer within [min, max]. */
export function checkInteger(scope: IConstruct, what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    ValidationError.fail(scope, `${what} ${value} is out of range: use an integer ${range}`);
  }
  return value;
}

/** Checks that `value` is a Kubernetes resource quantity such as `250m` or `1Gi`. */
export function checkQuantity(scope: IConstruct, what: string, value: string): string {
  if (!QUANTITY.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" is not a Kubernetes quantity: write it like "250m", "1", "512Mi" or "10Gi"`);
  }
  return value;
}

/** Checks that `value` is a portable environment variable name. */
export function checkEnvName(scope: IConstruct, value: string): string {
  if (!ENV_NAME.test(value)) {
    ValidationError.fail(scope, `environment variable name "${value}" is invalid: use letters, digits and '_', not starting with a digit`);
  }
  return value;
}

/**
 * Checks that `value` is empty or a prefix that makes valid environment
 * variable names, such as `REPORTS_`.
 */
export function checkEnvPrefix(scope: IConstruct, what: string, value: string): string {
  if (value !== '' && !ENV_NAME.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" does not make valid environment variable names: use upper-case letters, digits and '_', ending in '_', such as "REPORTS_"`);
  }
  return value;
}

/**
 * Checks that `value` is a host name an Ingress rule accepts: a DNS subdomain,
 * not an IP address, optionally with a leading `*.` wildcard label.
 */
export function checkIngressHost(scope: IConstruct, what: string, value: string): string {
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name) || IPV4.test(name)) {
    ValidationError.fail(scope, `${what} "${value}" is not a valid Ingress host: use a lower-case DNS name such as "todo.example.com", optionally starting with "*.", not an IP address`);
  }
  return value;
}

/** Checks that `value` is an absolute HTTP path such as `/healthz`. */
export function checkHttpPath(scope: IConstruct, what: string, value: string): string {
  if (!HTTP_PATH.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" is not an absolute HTTP path: start it with '/' and use URL-safe characters`);
  }
  return value;
}

/** Checks that `value` is an absolute filesystem path. */
export function checkAbsolutePath(scope: IConstruct, what: string, value: string): string {
  if (!value.startsWith('/') || value.includes('..')) {
    ValidationError.fail(scope, `${what} "${value}" must be an absolute path without '..'`);
  }
  return value;
}
