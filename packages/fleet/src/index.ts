/**
 * @polydub/fleet — polydub across several processes: the job store on PostgreSQL and one vendor
 * budget per API key shared through Redis, as layers an application composes.
 */
export * as DubbingWorkflow from "./DubbingWorkflow.js"
export * as Fleet from "./Fleet.js"
export * as FleetApi from "./FleetApi.js"
export * as PgJobStore from "./PgJobStore.js"
export * as SharedBudget from "./SharedBudget.js"
export * as Sweeper from "./Sweeper.js"
