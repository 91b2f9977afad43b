package tracing

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// A plugin of our own rather than gorm.io/plugin/opentelemetry: that one's tracing package
// imports the ClickHouse, MySQL and PostgreSQL drivers (to name the database system), a
// dozen modules in every project, sqlite ones included.

// GormPlugin returns the gorm plugin that makes one client span per database query (create,
// query, update, delete, row and raw statements), a child of the span in the query's context
// (handlers pass the request's: db.WithContext(c.Request.Context())). Its name is the
// operation and table (SELECT articles); its attributes the database system (dbType, [database]
// Type), the statement with placeholders (never the values) and the rows affected; a failed
// query (but record not found) sets the span's error status.
func (t *Tracing) GormPlugin(dbType string) gorm.Plugin {
	system := dbType
	if dbType == "postgres" {
		system = "postgresql"
	}
	return gormPlugin{tracer: t.provider.Tracer("myblog/pkg/tracing"), system: system}
}

type gormPlugin struct {
	tracer trace.Tracer
	system string
}

func (gormPlugin) Name() string { return "tracing" }

// spanKey is where a query's span waits between the before and after callbacks.
const spanKey = "tracing:span"

func (p gormPlugin) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	for _, op := range []struct {
		name, verb string
		before     func(string) callback
		after      func(string) callback
	}{
		{"create", "INSERT", func(n string) callback { return cb.Create().Before(n) }, func(n string) callback { return cb.Create().After(n) }},
		{"query", "SELECT", func(n string) callback { return cb.Query().Before(n) }, func(n string) callback { return cb.Query().After(n) }},
		{"update", "UPDATE", func(n string) callback { return cb.Update().Before(n) }, func(n string) callback { return cb.Update().After(n) }},
		{"delete", "DELETE", func(n string) callback { return cb.Delete().Before(n) }, func(n string) callback { return cb.Delete().After(n) }},
		{"row", "SQL", func(n string) callback { return cb.Row().Before(n) }, func(n string) callback { return cb.Row().After(n) }},
		{"raw", "SQL", func(n string) callback { return cb.Raw().Before(n) }, func(n string) callback { return cb.Raw().After(n) }},
	} {
		if err := op.before("gorm:"+op.name).Register("tracing:before_"+op.name, p.start(op.verb)); err != nil {
			return fmt.Errorf("tracing: register gorm callback: %w", err)
		}
		if err := op.after("gorm:"+op.name).Register("tracing:after_"+op.name, p.end); err != nil {
			return fmt.Errorf("tracing: register gorm callback: %w", err)
		}
	}
	return nil
}

// callback is what gorm's Before and After return.
type callback interface {
	Register(name string, fn func(*gorm.DB)) error
}

func (p gormPlugin) start(verb string) func(*gorm.DB) {
	return func(db *gorm.DB) {
		ctx := db.Statement.Context
		if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
			// A query outside any request (migrations, the background ping): no trace to
			// join, and a root span of its own would be noise.
			return
		}
		name := verb
		if db.Statement.Table != "" {
			name += " " + db.Statement.Table
		}
		_, span := p.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", p.system)))
		db.InstanceSet(spanKey, span)
	}
}

func (p gormPlugin) end(db *gorm.DB) {
	v, ok := db.InstanceGet(spanKey)
	if !ok {
		return
	}
	span, ok := v.(trace.Span)
	if !ok {
		return
	}
	defer span.End()
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		attribute.String("db.query.text", db.Statement.SQL.String()),
		attribute.Int64("db.response.rows_affected", db.RowsAffected),
	)
	if db.Statement.Table != "" {
		span.SetAttributes(attribute.String("db.collection.name", db.Statement.Table))
	}
	if err := db.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}
