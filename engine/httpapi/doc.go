// Package httpapi is ruleflow's HTTP API (design §8) as an http.Handler, so that
// `ruleflow serve` and a Go host embedding the engine can mount the same endpoints.
//
// Endpoints:
//
//	POST   /v1/events                               an event or an array of events → 202
//	POST   /api/jwt/login                           AR log-in: password = admin token → the token
//	POST   /api/arsys/v1.0/webhook                  register an AR System webhook → 201
//	GET    /api/arsys/v1.0/webhook                  list webhooks
//	GET    /api/arsys/v1.0/webhook/{id}             one webhook (password "********")
//	PUT    /api/arsys/v1.0/webhook/{id}             replace a webhook → 204
//	DELETE /api/arsys/v1.0/webhook/{id}             remove a webhook → 204
//	GET    /v1/callback-functions                   callback functions and their state
//	POST   /v1/callback-functions/{api_name}/publish   publish with a fresh token
//	POST   /v1/callback-functions/{api_name}/unpublish
//	POST   /callbacks/{api_name}                    invoke a callback function (own token)
//	POST   /v1/targets                              create an external-event target URL
//	GET    /v1/targets                              list targets
//	DELETE /v1/targets/{id}                         revoke a target URL
//	POST   /hooks/{token}                           deliver an external event (the token is the URL)
//	GET    /v1/deliveries                           list outbox jobs
//	GET    /v1/deliveries/{id}                      one job with its attempts
//	POST   /v1/deliveries/{id}/retry                re-drive a job
//	GET    /metrics                                 Prometheus metrics (open)
//	GET    /healthz                                 store reachable (open)
//
// Every error is a JSON object {"error": "..."} with the matching status code.
// Admin endpoints (events, webhooks, callback-function management, targets,
// deliveries) need Options.AdminToken as "Authorization: Bearer <token>" or
// "Authorization: AR-JWT <token>"; /callbacks and /hooks carry their own tokens;
// /metrics and /healthz are open. Tokens are compared in constant time and never
// logged: the access log records method, path (a /hooks token masked), status,
// duration and remote address, never a query string or a header.
//
// Lifecycle: New builds a Handler over an open engine and registers its metrics;
// Bootstrap gives the configuration's published callback functions and target URLs
// their tokens; ServeHTTP may then be called concurrently. The Handler holds no
// resources of its own: closing the engine is the caller's job, after the HTTP
// server has been shut down.
package httpapi
