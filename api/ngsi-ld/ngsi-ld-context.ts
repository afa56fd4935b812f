/**
 * The JSON-LD contexts the entities are written in: the NGSI-LD core context (always implied) and the
 * Smart Data Models context that expands AirQualityObserved, pm25, deviceState ... to their full IRIs.
 * Terms the models do not define (district, kind) expand through the core context's default vocabulary.
 */
export const CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
export const SMART_DATA_MODELS_CONTEXT = 'https://smartdatamodels.org/context.jsonld';

/** In an application/ld+json body: the user context first, the core context last (it must win). */
export const CONTEXT: readonly string[] = [SMART_DATA_MODELS_CONTEXT, CORE_CONTEXT];

/** In an application/json answer the context travels in this Link header instead (6.3.5). */
export const CONTEXT_LINK = [
  `<${SMART_DATA_MODELS_CONTEXT}>`,
  'rel="http://www.w3.org/ns/json-ld#context"',
  'type="application/ld+json"',
].join('; ');

/** Entity ids are URNs: urn:ngsi-ld:<type>:<city>:<local id>. */
export const entityUrn = (type: string, cityId: string, localId: string): string =>
  `urn:ngsi-ld:${type}:${cityId}:${localId}`;
