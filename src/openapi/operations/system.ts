import { z } from "zod";
import type { OperationSpec } from "../operation.js";
import { Health, Jwks } from "../schemas/system.js";

/** Health, the JWKS, Prometheus metrics and this document. */
export const SYSTEM_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "get",
    path: "/api/v1/health",
    operationId: "getHealth",
    summary: "Liveness for watchdogs",
    description:
      "200 when the database answers and every protect layer passed its start-up canary; 503 with the same body otherwise (`unavailable`: database; `degraded`: a failing layer, which then blocks everything it sees).",
    tag: "System",
    access: "public",
    responses: {
      200: { description: "Healthy.", name: "Health", schema: Health },
      503: { description: "Unhealthy (same shape).", name: "Health", schema: Health },
    },
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "getJwks",
    summary: "The gateway's public signing keys",
    description:
      "Every Ed25519 key that signed a live tag, passport, assessment or audit checkpoint (`kid` = RFC 7638 thumbprint). Errors at the root paths use the legacy envelope.",
    tag: "System",
    access: "public",
    responses: {
      200: {
        description: "A JSON Web Key Set.",
        contentType: "application/jwk-set+json",
        name: "Jwks",
        schema: Jwks,
      },
    },
  },
  {
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics",
    description:
      "Prometheus text format. Public like health; not counted by the per-IP limit; 404 when AIEGIS_METRICS=off. With several workers, 503 when a worker does not answer within 5 s (legacy envelope).",
    tag: "System",
    access: "public",
    responses: {
      200: {
        description: "Metrics in the Prometheus text exposition format.",
        contentType: "text/plain",
      },
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "getOpenApiDocument",
    summary: "This document",
    description: "The OpenAPI 3.1 document of the gateway; interactive docs at /docs.",
    tag: "System",
    access: "public",
    responses: {
      200: {
        description: "The OpenAPI document.",
        name: "OpenApiDocument",
        schema: z.looseObject({ openapi: z.string().startsWith("3.1."), paths: z.looseObject({}) }),
      },
    },
  },
];
