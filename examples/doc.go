// Package examples holds the scheduling files the README points at: a
// cron.d file, systemd units (the nightly prewarm and its timer, the
// host-recycle seed) and a cloud-init snippet. Its test checks each one
// parses (the cron lines as cron reads them, the units with systemd-analyze
// verify and the snippet with cloud-init schema where those are installed;
// CI installs them) and that every prewarm command line in them runs
// against the lab.
package examples
