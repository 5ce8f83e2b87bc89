package cli

import (
	"context"
	"log/slog"
)

// uniqueKeys keeps an attribute from repeating a key the handler writes
// itself (time, level, msg, source): slog writes both, and a JSON line with
// two "msg" keys loses one in most collectors. Such an attribute is
// renamed: msg becomes message, the others get a trailing underscore.
type uniqueKeys struct{ slog.Handler }

func (h uniqueKeys) Handle(ctx context.Context, r slog.Record) error {
	clash := false
	r.Attrs(func(a slog.Attr) bool {
		clash = reserved(a.Key)
		return !clash
	})
	if !clash {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(renamed(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h uniqueKeys) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = renamed(a)
	}
	return uniqueKeys{h.Handler.WithAttrs(out)}
}

// WithGroup: attributes inside a group cannot clash with the top level.
func (h uniqueKeys) WithGroup(name string) slog.Handler {
	return h.Handler.WithGroup(name)
}

func reserved(k string) bool {
	return k == slog.MessageKey || k == slog.TimeKey || k == slog.LevelKey || k == slog.SourceKey
}

func renamed(a slog.Attr) slog.Attr {
	switch {
	case a.Key == slog.MessageKey:
		a.Key = "message"
	case reserved(a.Key):
		a.Key += "_"
	}
	return a
}
