// The "restricted" Pod Security check lives in the library (the diff tool uses it too).
export { podSpecsOf, restrictedViolations } from '../../src/security/pod-security-check';
