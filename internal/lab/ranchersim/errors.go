package ranchersim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// apiError is a Cattle error body.
type apiError struct {
	status   int
	code     string
	message  *string
	field    *string
	hasField bool
}

func (e *apiError) body() map[string]any {
	m := map[string]any{
		"id": newUUID(), "type": "error", "links": map[string]any{}, "actions": map[string]any{},
		"status": e.status, "code": e.code, "message": optStr(e.message), "detail": nil,
		"baseType": "error",
	}
	if e.hasField {
		m["fieldName"] = optStr(e.field)
	}
	return m
}

// errField is a validation error: message null, the field (or, for some Cattle
// validation filters, the human text) in fieldName.
func errField(status int, code, field string) *apiError {
	return &apiError{status: status, code: code, field: &field, hasField: true}
}

func errActionNotAvailable() *apiError {
	return errField(http.StatusUnprocessableEntity, "ActionNotAvailable", "action")
}

func errInvalidAction() *apiError {
	return errField(http.StatusUnprocessableEntity, "InvalidAction", "action")
}

func errConflict() *apiError {
	return &apiError{status: http.StatusConflict, code: "Conflict", message: strPtr("Conflict")}
}

// errForbidden is Cattle's ClientVisibleException(403): code and message from the
// standard error codes.
func errForbidden() *apiError {
	return &apiError{status: http.StatusForbidden, code: "Forbidden", message: strPtr("Forbidden")}
}

func errNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: "Not Found", message: strPtr("Not Found")}
}

func errStatus(status int) *apiError {
	text := http.StatusText(status)
	code := strings.ReplaceAll(text, " ", "")
	switch status {
	case http.StatusInternalServerError:
		code = "ServerError"
	case http.StatusMethodNotAllowed:
		code = "MethodNotAllowed"
	}
	return &apiError{status: status, code: code, message: &text}
}

func errBadBody() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidBodyContent"}
}

func writeErr(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
