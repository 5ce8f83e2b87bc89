package lease

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPStore is a [Store] over the Rancher 1.6 API: the genericobjects collection of one
// project, with an environment (or account) API key.
type HTTPStore struct {
	client         *http.Client
	base           string // .../v2-beta/projects/<id>
	access, secret string
	log            *slog.Logger
}

// SetLogger makes the store log each request (method, path, status) at
// debug level, as the Rancher client does; keys are never logged. The
// default discards. Call it before the store is used.
func (s *HTTPStore) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// NewHTTPStore returns a Store for the project at projectURL, such as
// "https://rancher.example.com/v2-beta/projects/1a5". A nil client means
// http.DefaultClient.
func NewHTTPStore(client *http.Client, projectURL, access, secret string) (*HTTPStore, error) {
	u, err := url.Parse(projectURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lease: project URL %q: want http(s)://host/v2-beta/projects/<id>", projectURL)
	}
	if (access == "") != (secret == "") {
		return nil, errors.New("lease: give the access and secret key together (none: a Rancher without access control)")
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPStore{client: client, base: strings.TrimRight(projectURL, "/"), access: access, secret: secret,
		log: slog.New(slog.DiscardHandler)}, nil
}

// wireObject is a genericObject as the API renders it.
type wireObject struct {
	ID           string          `json:"id"`
	Name         *string         `json:"name"`
	Kind         string          `json:"kind"`
	Key          *string         `json:"key"`
	State        string          `json:"state"`
	ResourceData json.RawMessage `json:"resourceData"`
}

func (w wireObject) object() Object {
	o := Object{ID: w.ID, Kind: w.Kind, State: w.State, ResourceData: w.ResourceData}
	if w.Name != nil {
		o.Name = *w.Name
	}
	if w.Key != nil {
		o.Key = *w.Key
	}
	return o
}

// Create implements [Store].
func (s *HTTPStore) Create(ctx context.Context, o Object) (Object, error) {
	body := map[string]any{"name": o.Name, "kind": o.Kind, "key": o.Key, "resourceData": o.ResourceData}
	var w wireObject
	if err := s.do(ctx, http.MethodPost, s.base+"/genericobjects", body, &w); err != nil {
		return Object{}, err
	}
	return w.object(), nil
}

// List implements [Store]; it follows pagination.next.
func (s *HTTPStore) List(ctx context.Context, kind, key string) ([]Object, error) {
	q := url.Values{"kind": {kind}, "key": {key}, "removed_null": {"1"}}
	next := s.base + "/genericobjects?" + q.Encode()
	var out []Object
	for pages := 0; next != ""; pages++ {
		if pages == maxListPages {
			return nil, fmt.Errorf("list %s %s: more than %d pages", kind, key, maxListPages)
		}
		var coll struct {
			Data       []wireObject `json:"data"`
			Pagination *struct {
				Next *string `json:"next"`
			} `json:"pagination"`
		}
		if err := s.do(ctx, http.MethodGet, next, nil, &coll); err != nil {
			return nil, err
		}
		for _, w := range coll.Data {
			out = append(out, w.object())
		}
		next = ""
		if coll.Pagination != nil && coll.Pagination.Next != nil && *coll.Pagination.Next != "" {
			var err error
			if next, err = s.reroot(*coll.Pagination.Next); err != nil {
				return nil, fmt.Errorf("list %s %s: %w", kind, key, err)
			}
		}
	}
	return out, nil
}

// maxListPages bounds a listing (each answer is at most maxAnswer): an
// environment has one lease, and a few objects while runs race for it.
const maxListPages = 16

// maxAnswer bounds one answer of the API.
const maxAnswer = 16 << 20

// reroot puts a pagination link onto the base URL's scheme and host, as
// the Rancher client does: the keys go only where the inventory says, never
// to a host (or over plain HTTP) a server's answer names.
func (s *HTTPStore) reroot(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || (!u.IsAbs() && !strings.HasPrefix(u.Path, "/")) {
		return "", fmt.Errorf("pagination.next is not a URL or an absolute path (%d bytes)", len(link))
	}
	base, err := url.Parse(s.base)
	if err != nil {
		return "", err
	}
	u.Scheme, u.Host, u.User = base.Scheme, base.Host, nil
	return u.String(), nil
}

// Update implements [Store].
func (s *HTTPStore) Update(ctx context.Context, id string, data json.RawMessage) (Object, error) {
	var w wireObject
	if err := s.do(ctx, http.MethodPut, s.base+"/genericobjects/"+url.PathEscape(id),
		map[string]any{"resourceData": data}, &w); err != nil {
		return Object{}, err
	}
	return w.object(), nil
}

// Delete implements [Store]: 404 (gone) and 405 (already removed) count as done.
func (s *HTTPStore) Delete(ctx context.Context, id string) error {
	err := s.do(ctx, http.MethodDelete, s.base+"/genericobjects/"+url.PathEscape(id), nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusMethodNotAllowed) {
		return nil
	}
	return err
}

func (s *HTTPStore) do(ctx context.Context, method, u string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, u, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if s.access != "" {
		req.SetBasicAuth(s.access, s.secret)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	s.log.Debug("rancher lease request", "method", method, "path", req.URL.Path, "status", resp.StatusCode, "dur", time.Since(start))
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	if len(raw) > maxAnswer {
		return fmt.Errorf("%s %s: answer over %d MiB", method, req.URL.Path, maxAnswer>>20)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Method: method, URL: u, Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode)}
		var eb struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		}
		if json.Unmarshal(raw, &eb) == nil {
			if eb.Code != nil {
				e.Code = *eb.Code
			}
			if eb.Message != nil {
				e.Message = *eb.Message
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, u, err)
	}
	return nil
}
