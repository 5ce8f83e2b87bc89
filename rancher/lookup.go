package rancher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// maxPages stops a server whose pagination.next never ends.
const maxPages = 10000

// maxListBytes bounds one listing, its pages together (each is bounded at
// maxBody too): tens of thousands of containers or services as Rancher
// renders them. A larger collection is refused, naming it, rather than
// held in memory (10000 pages of 64 MiB each were allowed).
const maxListBytes = 256 << 20

// list GETs a collection and follows pagination.next to the end, reading
// at most c.listLimit bytes (maxListBytes) over all its pages.
func list[T any](ctx context.Context, c *Client, u string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	name := collectionName(u)
	limit := c.listLimit
	if limit <= 0 {
		limit = maxListBytes
	}
	var total int64
	for page := 0; u != ""; page++ {
		if page == maxPages || seen[u] {
			return nil, fmt.Errorf("list %s: pagination does not end (page %d)", name, page+1)
		}
		seen[u] = true
		var col collection[T]
		pageLimit := min(maxBody, limit-total)
		n, err := c.callLimit(ctx, http.MethodGet, u, nil, &col, pageLimit)
		total += n
		switch {
		case errors.Is(err, errTooLarge) && pageLimit < maxBody:
			return nil, fmt.Errorf("list %s: its %d pages so far are over %s in all, more than a Rancher environment holds: %w", name, page+1, sizeMiB(limit), errTooLarge)
		case errors.Is(err, errTooLarge):
			return nil, fmt.Errorf("list %s: page %d: %w", name, page+1, err)
		case err != nil:
			return nil, err
		}
		all = append(all, col.Data...)
		u = ""
		if col.Pagination != nil && col.Pagination.Next != "" {
			next, err := c.resolve(col.Pagination.Next)
			if err != nil {
				return nil, fmt.Errorf("pagination: %w", err)
			}
			u = next
		}
	}
	return all, nil
}

// collectionName is the collection a list URL names: "services" for
// ".../projects/1a5/services?limit=100".
func collectionName(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Path == "" {
		return "collection"
	}
	return path.Base(p.Path)
}

func withQuery(u string, q url.Values) string {
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// Projects lists the projects (environments) the keys reach.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	ps, err := list[Project](ctx, c, c.base.String()+"/projects")
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}

// Project finds a project by id ("1a5") or by name. An argument shaped like
// an id is tried as an id first, then as a name.
func (c *Client) Project(ctx context.Context, idOrName string) (*Project, error) {
	if idOrName == "" {
		return nil, errors.New("rancher: project: empty id or name")
	}
	if projectIDRe.MatchString(idOrName) {
		var p Project
		err := c.call(ctx, http.MethodGet, c.base.String()+"/projects/"+url.PathEscape(idOrName), nil, &p)
		if err == nil {
			return &p, nil
		}
		if !IsNotFound(err) {
			return nil, fmt.Errorf("project %s: %w", idOrName, err)
		}
	}
	q := url.Values{"name": {idOrName}, "removed_null": {"1"}, "all": {"true"}}
	ps, err := list[Project](ctx, c, withQuery(c.base.String()+"/projects", q))
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", idOrName, err)
	}
	// Cattle matches project names case-insensitively (ProjectResourceManager), so
	// "Prod" finds "prod"; an exact match wins when names differ only in case.
	if p, err := one(ps, "project "+idOrName, func(p *Project) string { return p.Name }, idOrName); !IsNotFound(err) {
		return p, err
	}
	return one(ps, "project "+idOrName, func(p *Project) string { return strings.ToLower(p.Name) }, strings.ToLower(idOrName))
}

// one returns the single element named name; servers that ignore a filter
// are coped with by filtering again here.
func one[T any](xs []T, what string, nameOf func(*T) string, name string) (*T, error) {
	var found []*T
	for i := range xs {
		if nameOf(&xs[i]) == name {
			found = append(found, &xs[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, &notFoundError{what: what}
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("rancher: %s: %d matches, want 1", what, len(found))
}

// Stacks lists the stacks of a project (removed ones left out).
func (c *Client) Stacks(ctx context.Context, project string) ([]Stack, error) {
	q := url.Values{"removed_null": {"1"}}
	ss, err := list[Stack](ctx, c, withQuery(c.projectURL(project)+"/stacks", q))
	if err != nil {
		return nil, fmt.Errorf("list stacks of project %s: %w", project, err)
	}
	return ss, nil
}

// Stack finds a stack by name.
func (c *Client) Stack(ctx context.Context, project, name string) (*Stack, error) {
	q := url.Values{"name": {name}, "removed_null": {"1"}}
	ss, err := list[Stack](ctx, c, withQuery(c.projectURL(project)+"/stacks", q))
	if err != nil {
		return nil, fmt.Errorf("stack %s in project %s: %w", name, project, err)
	}
	return one(ss, "stack "+name+" in project "+project, func(s *Stack) string { return s.Name }, name)
}

// Services lists every service of a project (removed ones left out).
func (c *Client) Services(ctx context.Context, project string) ([]Service, error) {
	q := url.Values{"removed_null": {"1"}}
	ss, err := list[Service](ctx, c, withQuery(c.projectURL(project)+"/services", q))
	if err != nil {
		return nil, fmt.Errorf("list services of project %s: %w", project, err)
	}
	return ss, nil
}

// Service finds a service by stack id and name.
func (c *Client) Service(ctx context.Context, project, stackID, name string) (*Service, error) {
	q := url.Values{"stackId": {stackID}, "name": {name}, "removed_null": {"1"}}
	ss, err := list[Service](ctx, c, withQuery(c.projectURL(project)+"/services", q))
	if err != nil {
		return nil, fmt.Errorf("service %s in stack %s: %w", name, stackID, err)
	}
	inStack := ss[:0] // a server ignoring the stackId filter must not match another stack's service
	for _, s := range ss {
		if s.StackID == stackID {
			inStack = append(inStack, s)
		}
	}
	return one(inStack, "service "+name+" in stack "+stackID, func(s *Service) string { return s.Name }, name)
}

// ServiceByID reads a service by id.
func (c *Client) ServiceByID(ctx context.Context, project, id string) (*Service, error) {
	var s Service
	if err := c.call(ctx, http.MethodGet, c.projectURL(project)+"/services/"+url.PathEscape(id), nil, &s); err != nil {
		return nil, fmt.Errorf("service %s: %w", id, err)
	}
	return &s, nil
}

// ServiceByPath finds a service by "stack/service" (two requests).
func (c *Client) ServiceByPath(ctx context.Context, project, path string) (*Service, error) {
	stack, name, ok := strings.Cut(path, "/")
	if !ok || stack == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("rancher: service path %q: want stack/service", path)
	}
	st, err := c.Stack(ctx, project, stack)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", path, err)
	}
	svc, err := c.Service(ctx, project, st.ID, name)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", path, err)
	}
	return svc, nil
}

// Refresh re-reads a service through its self link.
func (c *Client) Refresh(ctx context.Context, svc *Service) (*Service, error) {
	u, err := c.selfURL(&svc.Resource, "services")
	if err != nil {
		return nil, err
	}
	var s Service
	if err := c.call(ctx, http.MethodGet, u, nil, &s); err != nil {
		return nil, fmt.Errorf("service %s (%s): %w", svc.Name, svc.ID, err)
	}
	return &s, nil
}

// selfURL is links.self, or the collection URL plus id when a resource came
// without links.
func (c *Client) selfURL(r *Resource, collection string) (string, error) {
	if s := r.Links["self"]; s != "" {
		return c.resolve(s)
	}
	if r.ID == "" {
		return "", fmt.Errorf("rancher: %s without id or self link", collection)
	}
	return c.projectURL(projectOf(r)) + "/" + collection + "/" + url.PathEscape(r.ID), nil
}

// Hosts lists the hosts of a project (removed ones left out).
func (c *Client) Hosts(ctx context.Context, project string) ([]Host, error) {
	q := url.Values{"removed_null": {"1"}}
	hs, err := list[Host](ctx, c, withQuery(c.projectURL(project)+"/hosts", q))
	if err != nil {
		return nil, fmt.Errorf("list hosts of project %s: %w", project, err)
	}
	return hs, nil
}

// Instances lists a service's containers through links.instances (this
// includes old containers an upgrade stopped and has not removed yet).
func (c *Client) Instances(ctx context.Context, svc *Service) ([]Instance, error) {
	link := svc.Links["instances"]
	if link == "" {
		self, err := c.selfURL(&svc.Resource, "services")
		if err != nil {
			return nil, err
		}
		link = strings.TrimSuffix(self, "/") + "/instances"
	}
	u, err := c.resolve(link)
	if err != nil {
		return nil, fmt.Errorf("instances of service %s: %w", svc.Name, err)
	}
	is, err := list[Instance](ctx, c, u)
	if err != nil {
		return nil, fmt.Errorf("instances of service %s (%s): %w", svc.Name, svc.ID, err)
	}
	return is, nil
}
