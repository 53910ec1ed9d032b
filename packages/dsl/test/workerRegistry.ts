/** The test registry as a module, for runs on worker threads (`workerRegistry`). */
export { testRegistry as registry } from "./runnerKit.ts"
