package dockersim

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// message is one line of dockerd's JSON progress stream.
type message struct {
	Status         string          `json:"status,omitempty"`
	ProgressDetail *progressDetail `json:"progressDetail,omitempty"`
	Progress       string          `json:"progress,omitempty"`
	ID             string          `json:"id,omitempty"`
	ErrorDetail    *errorDetail    `json:"errorDetail,omitempty"`
	Error          string          `json:"error,omitempty"`
}

type progressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

type errorDetail struct {
	Message string `json:"message"`
}

// stream writes progress messages; it is safe for concurrent use. Nothing
// reaches the client before the first message, so errors that happen
// earlier can still be sent as an HTTP status.
type stream struct {
	mu      sync.Mutex
	start   func() // called once before the first write
	w       io.Writer
	flush   func()
	started bool
	failed  bool
}

func (s *stream) emit(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	b = append(b, '\r', '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed || s.w == nil {
		return
	}
	if !s.started {
		s.started = true
		if s.start != nil {
			s.start()
		}
	}
	if _, err := s.w.Write(b); err != nil {
		s.failed = true
		return
	}
	if s.flush != nil {
		s.flush()
	}
}

func (s *stream) hasStarted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *stream) status(id, status string) {
	s.emit(message{Status: status, ProgressDetail: &progressDetail{}, ID: id})
}

func (s *stream) message(id, status string) {
	s.emit(message{Status: status, ID: id})
}

func (s *stream) progress(id, status string, current, total int64) {
	s.emit(message{
		Status:         status,
		ProgressDetail: &progressDetail{Current: current, Total: total},
		Progress:       progressBar(current, total),
		ID:             id,
	})
}

func (s *stream) fail(err error) {
	s.emit(message{ErrorDetail: &errorDetail{Message: err.Error()}, Error: err.Error()})
}

// progressBar renders dockerd's bar: "[=====>     ]  32.77kB/301.6kB".
func progressBar(current, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%8v", humanSize(current))
	}
	const width = 50
	n := int(float64(width) * float64(current) / float64(total))
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n) + "] " +
		fmt.Sprintf("%8v/%v", humanSize(current), humanSize(total))
}

// humanSize formats like go-units' HumanSize: 4 significant digits, decimal
// units.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
