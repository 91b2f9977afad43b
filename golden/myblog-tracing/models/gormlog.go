package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"myblog/pkg/setting"
)

// gormLoggerFor returns the logger Open gives gorm: slog's default logger (main sets it),
// warning about queries slower than [database] SlowQuery.
func gormLoggerFor(dialector gorm.Dialector, cfg setting.Database) logger.Interface {
	translator, _ := dialector.(gorm.ErrorTranslator)
	return NewGormLogger(slog.Default(), cfg.SlowQuery, translator)
}

// gormLogger sends gorm's log through slog, into the program's one structured stream:
//   - a failed query is a warning with its SQL, placeholders only: the values bound to it
//     (user names, password hashes, whole request bodies) are never logged above debug;
//   - a query slower than the threshold is a warning, with the same SQL;
//   - at debug level every query is logged, with its values;
//   - "record not found" is not an error worth a line: handlers answer it with 404; nor is a
//     violated unique or foreign key, which handlers answer with 409 and whose message may
//     quote the value (MySQL's "Duplicate entry 'ann'"): both are logged at debug only.
//
// slog's level decides what is written; gorm's own level (LogMode) is ignored.
type gormLogger struct {
	logger     *slog.Logger
	slow       time.Duration
	translator gorm.ErrorTranslator
}

// NewGormLogger returns a gorm logger writing to l (nil: slog.Default()), warning about
// queries that take longer than slow (0: never). translator, the dialector when it is one,
// tells constraint violations from other failures.
func NewGormLogger(l *slog.Logger, slow time.Duration, translator gorm.ErrorTranslator) logger.Interface {
	if l == nil {
		l = slog.Default()
	}
	return gormLogger{logger: l, slow: slow, translator: translator}
}

// LogMode is part of logger.Interface; the level is slog's.
func (g gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }

func (g gormLogger) Info(ctx context.Context, msg string, data ...any) {
	g.logger.InfoContext(ctx, fmt.Sprintf(msg, data...), "source", "gorm")
}

func (g gormLogger) Warn(ctx context.Context, msg string, data ...any) {
	g.logger.WarnContext(ctx, fmt.Sprintf(msg, data...), "source", "gorm")
}

func (g gormLogger) Error(ctx context.Context, msg string, data ...any) {
	g.logger.ErrorContext(ctx, fmt.Sprintf(msg, data...), "source", "gorm")
}

// ParamsFilter decides what fc() of Trace returns: the SQL with its values bound only while
// debug is enabled, with placeholders otherwise (gorm calls it for every statement).
func (g gormLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if g.logger.Enabled(ctx, slog.LevelDebug) {
		return sql, params
	}
	return sql, nil
}

// Trace is called after every statement.
func (g gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (sql string, rowsAffected int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && g.expected(err):
		if !g.logger.Enabled(ctx, slog.LevelDebug) {
			return
		}
		sql, rows := fc()
		g.logger.LogAttrs(ctx, slog.LevelDebug, "database query refused",
			slog.String("sql", sql), slog.Int64("rows", rows), slog.Duration("elapsed", elapsed), slog.String("error", err.Error()))
	case err != nil:
		if !g.logger.Enabled(ctx, slog.LevelWarn) {
			return
		}
		sql, rows := fc()
		g.logger.LogAttrs(ctx, slog.LevelWarn, "database query failed",
			slog.String("sql", sql), slog.Int64("rows", rows), slog.Duration("elapsed", elapsed), slog.String("error", err.Error()))
	case g.slow > 0 && elapsed > g.slow:
		if !g.logger.Enabled(ctx, slog.LevelWarn) {
			return
		}
		sql, rows := fc()
		g.logger.LogAttrs(ctx, slog.LevelWarn, "slow database query",
			slog.String("sql", sql), slog.Int64("rows", rows), slog.Duration("elapsed", elapsed), slog.Duration("threshold", g.slow))
	case g.logger.Enabled(ctx, slog.LevelDebug):
		sql, rows := fc()
		g.logger.LogAttrs(ctx, slog.LevelDebug, "database query",
			slog.String("sql", sql), slog.Int64("rows", rows), slog.Duration("elapsed", elapsed))
	}
}

// expected reports the errors the application answers itself (404, 409) or that a client
// caused by going away.
func (g gormLogger) expected(err error) bool {
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, context.Canceled) {
		return true
	}
	if g.translator != nil {
		err = g.translator.Translate(err)
	}
	return errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, gorm.ErrForeignKeyViolated) || errors.Is(err, gorm.ErrCheckConstraintViolated)
}
