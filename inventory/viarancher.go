package inventory

// ViaRancher is the docker value of a host, or of discover, that is reached
// only through Rancher: the host action dockersocket, relayed by the host's
// agent to /var/run/docker.sock. Such a host needs no endpoint, no TLS files
// and no open Docker port, only the environment's Rancher project and a key
// whose role has the modifyInfra capability.
const ViaRancher = "rancher"

// ViaRancher reports whether the host is reached through Rancher
// (docker: rancher).
func (h *Host) ViaRancher() bool { return h.Docker == ViaRancher }

// ViaRancher reports whether discovered hosts are reached through Rancher
// (discover: {from: rancher, docker: rancher}).
func (d *Discover) ViaRancher() bool { return d != nil && d.Docker == ViaRancher }

// ViaRancher reports whether any of the environment's hosts is reached
// through Rancher.
func (e *Environment) ViaRancher() bool {
	if e.Discover.ViaRancher() {
		return true
	}
	for i := range e.Hosts {
		if e.Hosts[i].ViaRancher() {
			return true
		}
	}
	return false
}

// viaRancherHost checks a listed host with docker: rancher: no endpoint
// settings apply.
func (v *validator) viaRancherHost(l loc, h *Host) {
	if h.TLS != nil && v.set(l.field("tls")) {
		v.errorf(l.field("tls"), "docker: rancher reaches the host through Rancher: tls does not apply (rancher.caCert verifies Rancher)")
	}
	if h.Insecure {
		v.errorf(l.field("insecure"), "docker: rancher reaches the host through Rancher: insecure does not apply")
	}
}

// viaRancherDiscover checks discover with docker: rancher.
func (v *validator) viaRancherDiscover(l loc, d *Discover) {
	if d.TLS != nil && v.set(l.field("tls")) {
		v.errorf(l.field("tls"), "docker: rancher reaches hosts through Rancher: tls does not apply (rancher.caCert verifies Rancher)")
	}
	if d.Insecure {
		v.errorf(l.field("insecure"), "docker: rancher reaches hosts through Rancher: insecure does not apply")
	}
}
