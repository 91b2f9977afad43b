// Command myblog serves the myblog API. It restarts with zero downtime on SIGHUP
// (fork strategy) and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"myblog/internal/restart"
	"myblog/models"
	"myblog/pkg/auth"
	"myblog/pkg/setting"
	"myblog/routers"
)

// dbProbeInterval is how often the serving process pings the database in the background,
// for the state /healthz reports.
const dbProbeInterval = 2 * time.Second

// version is stamped at build time: go build -ldflags "-X main.version=v1.2.3" (see the
// Makefile). It is never written at run time.
var version = "dev"

func main() {
	configPath := flag.String("config", "conf/app.ini", "path of the settings file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *configPath)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "myblog:", err)
		os.Exit(1)
	}
}

// run loads the settings and serves until ctx is cancelled.
func run(ctx context.Context, configPath string) error {
	cfg, err := setting.Load(configPath)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.App)
	slog.SetDefault(logger)
	gin.SetMode(cfg.App.RunMode)

	opts := restart.Options{
		Addr:            cfg.Server.Addr(),
		PIDFile:         cfg.App.PIDFile,
		ReadTimeout:     cfg.Server.ReadTimeout,
		WriteTimeout:    cfg.Server.WriteTimeout,
		ShutdownTimeout: cfg.Server.ShutdownTimeout,
		ReadyTimeout:    cfg.Server.ReadyTimeout,
		Logger:          logger,
	}
	// build runs only in the process that serves requests, once per generation, so every
	// restart opens the database and reads routes afresh.
	build := func(ctx context.Context) (http.Handler, func() error, error) {
		db, err := models.Open(ctx, cfg.Database)
		if err != nil {
			return nil, nil, err
		}
		if err := models.Migrate(db); err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		tokens, err := auth.NewTokens(cfg.Auth, cfg.App.Name)
		if err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		created, err := models.SeedUser(ctx, db, cfg.Auth)
		if err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		if created {
			logger.Info("created the first user from [auth] SeedUser and SeedPassword", "username", cfg.Auth.SeedUser)
		}
		monitor := models.StartDBMonitor(func(ctx context.Context) error { return models.Ping(ctx, db) }, dbProbeInterval, logger)
		handler := routers.New(routers.Deps{
			DB:      db,
			DBState: monitor.State,
			Tokens:  tokens,
			Version: version,
			Logger:  logger,
		})
		cleanup := func() error {
			monitor.Stop()
			return models.Close(db)
		}
		return handler, cleanup, nil
	}
	if err := restart.Run(ctx, opts, build); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func newLogger(app setting.App) *slog.Logger {
	var level slog.Level
	// The level was validated by setting.Load.
	_ = level.UnmarshalText([]byte(app.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if app.RunMode == gin.ReleaseMode {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
