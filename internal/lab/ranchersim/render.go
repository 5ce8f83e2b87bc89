package ranchersim

import (
	"time"
)

// rctx renders resources for one request: URLs are absolute, built from the request's
// Host and API version, like Cattle's.
type rctx struct {
	root    string // "http://127.0.0.1:port"
	ver     string // "v2-beta" or "v1"
	noInfra bool   // the key lacks modifyInfra: hosts show no actions
}

func (rc *rctx) base() string              { return rc.root + "/" + rc.ver }
func (rc *rctx) projURL(p *Project) string { return rc.base() + "/projects/" + p.id }
func (rc *rctx) url(p *Project, coll, id string) string {
	return rc.projURL(p) + "/" + coll + "/" + id
}

func links(self string, names ...string) map[string]any {
	m := map[string]any{"self": self}
	for i := 0; i+1 < len(names); i += 2 {
		m[names[i]] = self + "/" + names[i+1]
	}
	return m
}

func actionMap(self string, names []string) map[string]any {
	m := map[string]any{}
	for _, n := range names {
		m[n] = self + "/?action=" + n
	}
	return m
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func optStr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func emptyNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// render dispatches on the model type. Called with s.mu held.
func (rc *rctx) render(o any) map[string]any {
	switch x := o.(type) {
	case *Project:
		return rc.project(x)
	case *Stack:
		return rc.stack(x)
	case *Service:
		return rc.service(x)
	case *Host:
		return rc.host(x)
	case *container:
		return rc.container(x)
	case *genericObject:
		return rc.genericObject(x)
	}
	return nil
}

func (rc *rctx) project(p *Project) map[string]any {
	self := rc.projURL(p)
	return map[string]any{
		"id": p.id, "type": "project", "baseType": "project",
		"links": links(self, "hosts", "hosts", "stacks", "stacks", "services", "services",
			"instances", "instances", "containers", "containers", "schemas", "schemas",
			"subscribe", "subscribe"),
		"actions": map[string]any{}, "name": p.name, "state": "active",
		"allowSystemRole": false, "created": ts(p.created), "createdTS": p.created.UnixMilli(),
		"defaultNetworkId": nil, "description": nil, "healthState": "healthy",
		"hostRemoveDelaySeconds": nil, "kind": "project", "members": nil,
		"orchestration": "cattle", "projectTemplateId": nil, "removed": nil,
		"servicesPortRange": nil, "transitioning": "no", "transitioningMessage": nil,
		"transitioningProgress": nil, "uuid": p.uuid, "version": "3", "virtualMachine": false,
	}
}

func (rc *rctx) stack(st *Stack) map[string]any {
	self := rc.url(st.p, "stacks", st.id)
	ids := []any{}
	health := "healthy"
	for _, svc := range st.p.services {
		if svc.stack != st || svc.removed != nil {
			continue
		}
		ids = append(ids, svc.id)
		switch h := svc.healthState(); {
		case h == "healthy":
		case health == "healthy" || h == "unhealthy":
			health = h
		}
	}
	return map[string]any{
		"id": st.id, "type": "stack", "baseType": "stack",
		"links": links(self, "account", "account", "hosts", "hosts", "instances", "instances",
			"scheduledUpgrades", "scheduledupgrades", "secrets", "secrets", "services", "services",
			"volumeTemplates", "volumetemplates", "volumes", "volumes", "composeConfig", "composeconfig"),
		"actions": map[string]any{}, "name": st.name, "state": "active", "accountId": st.p.id,
		"answers": nil, "binding": nil, "created": ts(st.created), "createdTS": st.created.UnixMilli(),
		"description": nil, "dockerCompose": "", "environment": nil, "externalId": nil, "group": nil,
		"healthState": health, "kind": "stack", "outputs": nil, "previousEnvironment": nil,
		"previousExternalId": nil, "rancherCompose": "", "removed": nil, "serviceIds": ids,
		"startOnCreate": nil, "system": false, "templates": nil, "transitioning": "no",
		"transitioningMessage": nil, "transitioningProgress": nil, "uuid": st.uuid,
	}
}

func (rc *rctx) service(svc *Service) map[string]any {
	self := rc.url(svc.p, "services", svc.id)
	ids := []any{}
	current := 0
	for _, c := range svc.containers() {
		ids = append(ids, c.id)
		if c.lc == "" && c.current() {
			current++
		}
	}
	secs := []any{}
	for _, lc := range svc.secondary {
		secs = append(secs, lc)
	}
	var upgrade, retain any
	if svc.upgrade != nil {
		upgrade = svc.upgrade
	}
	if svc.retainIP != nil {
		retain = *svc.retainIP
	}
	return map[string]any{
		"id": svc.id, "type": "service", "baseType": "service",
		"links": links(self, "account", "account", "consumedbyservices", "consumedbyservices",
			"consumedservices", "consumedservices", "instances", "instances",
			"networkDrivers", "networkdrivers", "serviceExposeMaps", "serviceexposemaps",
			"serviceLogs", "servicelogs", "stack", "stack", "storageDrivers", "storagedrivers",
			"containerStats", "containerstats"),
		"actions": actionMap(self, svc.allowedActions()), "name": svc.name, "state": svc.state,
		"accountId": svc.p.id, "assignServiceIpAddress": false, "createIndex": svc.createIndex,
		"created": ts(svc.created), "createdTS": svc.created.UnixMilli(), "currentScale": current,
		"description": nil, "externalId": nil, "fqdn": nil, "healthState": svc.healthState(),
		"instanceIds": ids, "kind": svc.kind, "launchConfig": svc.launchConfig, "lbConfig": nil,
		"linkedServices": nil, "metadata": map[string]any{}, "publicEndpoints": []any{},
		"removed": tsPtr(svc.removed), "retainIp": retain, "scale": svc.scale, "scalePolicy": nil,
		"secondaryLaunchConfigs": secs, "selectorContainer": nil, "selectorLink": nil,
		"stackId": svc.stack.id, "startOnCreate": false, "system": false,
		"transitioning": svc.transitioning, "transitioningMessage": optStr(svc.transMsg),
		"transitioningProgress": nil, "upgrade": upgrade, "uuid": svc.uuid, "vip": nil,
	}
}

func (rc *rctx) host(h *Host) map[string]any {
	self := rc.url(h.p, "hosts", h.id)
	ids := []any{}
	for _, c := range h.p.containers {
		if c.host == h && c.removed == nil {
			ids = append(ids, c.id)
		}
	}
	labels := map[string]any{}
	for k, v := range h.labels {
		labels[k] = v
	}
	var acts []string
	switch h.state {
	case "active":
		acts = []string{"update", "deactivate", "evacuate", "dockersocket"}
	case "inactive":
		acts = []string{"update", "activate", "evacuate", "dockersocket"}
	case "activating", "deactivating":
		acts = []string{"update", "dockersocket"}
	default:
		acts = []string{"update"}
	}
	if rc.noInfra {
		acts = nil
	}
	return map[string]any{
		"id": h.id, "type": "host", "baseType": "host",
		"links": links(self, "account", "account", "instances", "instances", "hostLabels", "hostlabels",
			"stats", "stats", "containerStats", "containerstats", "hostStats", "hoststats"),
		"actions": actionMap(self, acts), "name": nil, "state": h.reportedState(),
		"accountId": h.p.id, "agentIpAddress": emptyNil(h.agentIP), "agentState": emptyNil(h.agentState),
		"amazonec2Config": nil, "authCertificateAuthority": nil, "authKey": nil,
		"computeTotal": 1000000, "created": ts(h.created), "createdTS": h.created.UnixMilli(),
		"description": nil, "dockerVersion": "20.10.24", "driver": nil, "hostname": h.name,
		"info": hostInfo(h.engine), "instanceIds": ids, "kind": "docker", "labels": labels, "localStorageMb": nil,
		"memory": nil, "milliCpu": nil, "physicalHostId": nil, "publicEndpoints": []any{},
		"removed": nil, "transitioning": "no", "transitioningMessage": nil,
		"transitioningProgress": nil, "uuid": h.uuid,
	}
}

func (rc *rctx) container(c *container) map[string]any {
	self := rc.url(c.p, "containers", c.id)
	lcLabelValue := "io.rancher.service.primary.launch.config"
	if c.lc != "" {
		lcLabelValue = c.lc
	}
	trans := "no"
	switch c.state {
	case "creating", "starting", "stopping", "removing":
		trans = "yes"
	}
	var hostID any
	if c.host != nil {
		hostID = c.host.id
	}
	var health any
	if c.health != nil {
		health = *c.health
	}
	return map[string]any{
		"id": c.id, "type": "container", "baseType": "instance",
		"links": links(self, "account", "account", "hosts", "hosts", "services", "services",
			"stats", "stats", "containerStats", "containerstats"),
		"actions": map[string]any{}, "name": c.name, "state": c.state, "accountId": c.p.id,
		"created": ts(c.created), "createdTS": c.created.UnixMilli(), "deploymentUnitUuid": c.unitUUID,
		"description": nil, "externalId": emptyNil(c.externalID), "healthState": health,
		"hostId": hostID, "imageUuid": "docker:" + c.imageRef, "kind": "container",
		"labels": map[string]any{
			"io.rancher.stack.name":              c.svc.stack.name,
			"io.rancher.stack_service.name":      c.svc.stack.name + "/" + c.svc.name,
			"io.rancher.service.launch.config":   lcLabelValue,
			"io.rancher.service.deployment.unit": c.unitUUID,
			"io.rancher.container.uuid":          c.uuid,
			"io.rancher.project_service.name":    c.svc.stack.name + "/" + c.svc.name,
			"io.rancher.container.name":          c.name,
		},
		"primaryIpAddress": nil, "removed": tsPtr(c.removed), "serviceIds": []any{c.svc.id},
		"stackId": c.svc.stack.id, "transitioning": trans, "transitioningMessage": nil,
		"transitioningProgress": nil, "uuid": c.uuid, "version": c.version,
	}
}
