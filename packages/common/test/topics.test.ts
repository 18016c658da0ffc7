import { describe, expect, it } from "vitest";
import {
  DEAD_LETTER_TOPIC,
  EventTopic,
  isStandardTopic,
  isValidTopicName,
  STANDARD_TOPICS,
  TOPIC_NAME_MAX_LENGTH,
} from "../src/topics.js";

describe("EventTopic", () => {
  it("has the eight standard topics with their wire names", () => {
    expect(STANDARD_TOPICS).toEqual([
      "action-requests",
      "action-results",
      "business-facts",
      "notification-events",
      "system-events",
      "billing-events",
      "plan-events",
      "task-events",
    ]);
    expect(EventTopic.ACTION_REQUESTS).toBe("action-requests");
  });

  it("every standard topic and the dead-letter topic follow the custom-topic rule", () => {
    for (const topic of [...STANDARD_TOPICS, DEAD_LETTER_TOPIC]) expect(isValidTopicName(topic)).toBe(true);
    expect(isStandardTopic(DEAD_LETTER_TOPIC)).toBe(false);
  });

  it("custom topics must be lower-case kebab-case within the length limit", () => {
    expect(isValidTopicName("my-custom-topic2")).toBe(true);
    expect(isValidTopicName("a".repeat(TOPIC_NAME_MAX_LENGTH))).toBe(true);
    for (const bad of [
      "",
      "Upper",
      "with.dot",
      "with space",
      "-leading",
      "trailing-",
      "double--dash",
      "9starts-with-digit",
      "wild*",
      "a".repeat(TOPIC_NAME_MAX_LENGTH + 1),
    ]) {
      expect(isValidTopicName(bad), bad).toBe(false);
    }
  });
});
