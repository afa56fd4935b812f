import { describe, expect, it } from 'vitest';
import { mqtt5ReasonFor, Mqtt5Reason, protocolVersionProblem } from './protocol-versions.ts';

describe('protocol versions and the MQTT 5 reason codes kept ready', () => {
  it('accepts MQTT 3.1 and 3.1.1 and says why any other level is refused', () => {
    expect(protocolVersionProblem(4)).toBeUndefined();
    expect(protocolVersionProblem(3)).toBeUndefined();
    expect(protocolVersionProblem(5)).toMatch(/MQTT 5\.0 is not accepted yet.*docs\/mqtt5\.md/);
    expect(protocolVersionProblem(7)).toMatch(/protocol level 7 is not an MQTT version/);
    // a CONNECT whose level byte the parser could not give back is still refused with a reason
    expect(protocolVersionProblem(undefined)).toMatch(/^a protocol level is not an MQTT version .*protocol version 4/);
  });

  it('maps each refusal of a publish to the PUBACK reason code an MQTT 5 client would get', () => {
    expect(mqtt5ReasonFor('rate_limited')).toBe(Mqtt5Reason.quotaExceeded); // 0x97
    expect(mqtt5ReasonFor('publish_acl')).toBe(Mqtt5Reason.notAuthorized); // 0x87
    expect(mqtt5ReasonFor('retain_not_allowed')).toBe(0x87);
    expect(mqtt5ReasonFor('topic_shape')).toBe(Mqtt5Reason.topicNameInvalid); // 0x90
    expect(mqtt5ReasonFor('malformed_payload')).toBe(Mqtt5Reason.payloadFormatInvalid); // 0x99
    expect(mqtt5ReasonFor('out_of_range')).toBe(0x99);
  });
});
