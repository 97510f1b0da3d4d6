package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader is the response header that carries the ID of every request. A
// 500 answer carries the same ID in its body; the log record of the failure has it
// too, so an operator can find the cause the client was not shown.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// newRequestID returns a random ID such as "req_3f9c0a1b2c3d4e5f6a7b8c9d".
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "req_" + hex.EncodeToString(b[:])
}

// withRequestID gives every request an ID, in its context and in the
// X-Request-Id response header. An ID the client sent is not reused: it would let a
// client write into the server's logs.
func (h *Handler) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// requestID returns the ID withRequestID gave r, or "" outside the handler.
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// writeFailure answers a failed request with status and err's text, except a 500,
// whose text may hold internal detail: that is logged and answered by internalError.
func (h *Handler) writeFailure(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusInternalServerError {
		h.internalError(w, r, err)
		return
	}
	writeError(w, status, err.Error())
}
