/**
 * The shape every scenario module returns.
 *
 * @typedef {object} ScenarioSession
 * @property {import("../lib/completions.mjs").Completions} completions - where the consumer reports handled ids
 * @property {(id: string) => Promise<void>} publish - publish one event with this id; resolves once confirmed
 * @property {() => Promise<void>} close - release everything the session started
 *
 * @typedef {object} Scenario
 * @property {string} id - short key used in results/latest.json
 * @property {string} label - what the table shows
 * @property {() => Promise<ScenarioSession>} open - set up producer, broker path and consumer
 */

/**
 * A scenario that did not run, with the reason printed in its row.
 *
 * @typedef {object} SkippedScenario
 * @property {string} id
 * @property {string} label
 * @property {string} skipped
 */

export {};
