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

	"github.com/gingen/gingen/restart"

	"myblog/internal/migrate"
	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/admin"
	"myblog/pkg/metrics"
	"myblog/pkg/setting"
	"myblog/pkg/tracing"
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
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: myblog [-config FILE]          serve\n%s\n", migrate.Usage)
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if flag.Arg(0) == "migrate" {
		err = runMigrate(ctx, *configPath, flag.Args()[1:])
	} else {
		err = run(ctx, *configPath)
	}
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
	routers.ConfigureGin(cfg.App.RunMode, logger)

	openFiles, err := setting.OpenFileLimit()
	if err != nil {
		return err
	}
	maxConns, err := cfg.ConnCap(openFiles)
	if err != nil {
		return fmt.Errorf("settings: %s: %w", configPath, err)
	}
	logger.Info("connection cap", "max_conns", maxConns, "open_file_limit", openFiles)

	opts := restart.Options{
		Addr:              cfg.Server.Addr(),
		PIDFile:           cfg.App.PIDFile,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		ShutdownTimeout:   cfg.Server.ShutdownTimeout,
		ReadyTimeout:      cfg.Server.ReadyTimeout,
		DrainDelay:        cfg.Server.DrainDelay,
		CertFile:          cfg.Server.CertFile,
		KeyFile:           cfg.Server.KeyFile,
		Logger:            logger,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxConns:          maxConns,
	}
	// One registry per process: in a supervisor master it stays empty and unserved.
	metricSet := metrics.New()
	opts.OnServe = metricSet.Generation
	// build runs only in the process that serves requests, once per generation, so every
	// restart opens the database and reads routes afresh.
	build := func(ctx context.Context) (http.Handler, func() error, error) {
		db, err := models.Open(ctx, cfg.Database)
		if err != nil {
			return nil, nil, err
		}
		// Before ready: the previous generation keeps serving while this one migrates, and
		// a database ahead of this build stops it here.
		if err := migrate.Up(ctx, db, logger); err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, nil, errors.Join(fmt.Errorf("database pool: %w", err), models.Close(db))
		}
		if err := metricSet.SetDB(sqlDB, cfg.Database.Type); err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		// nil when [tracing] is off: then nothing is installed.
		tracer, err := tracing.New(cfg.Tracing, version)
		if err != nil {
			return nil, nil, errors.Join(err, models.Close(db))
		}
		if tracer != nil {
			if err := db.Use(tracer.GormPlugin(cfg.Database.Type)); err != nil {
				return nil, nil, errors.Join(err, shutdownTracing(tracer, cfg.Server.ShutdownTimeout), models.Close(db))
			}
			logger.Info("tracing on", "endpoint", cfg.Tracing.URL().String(), "sample_ratio", cfg.Tracing.SampleRatio)
		}
		monitor := models.StartDBMonitor(func(ctx context.Context) error { return models.Ping(ctx, db) }, dbProbeInterval, logger)
		handler := routers.New(routers.Deps{
			DB:             db,
			DBState:        monitor.State,
			Version:        version,
			Logger:         logger,
			AccessLog:      cfg.App.AccessLog,
			TrustedProxies: cfg.Server.Proxies(),
			Metrics:        metricSet,
			MetricsPublic:  cfg.Metrics.Public,
			Server:         cfg.Server,
			CORS:           cfg.CORS,
			Tracing:        tracer,
		})
		var adminSrv *admin.Server
		if cfg.Admin.Addr != "" {
			adminSrv = admin.Start(cfg.Admin.Addr, routers.Admin(metricSet), logger)
		}
		cleanup := func() error {
			monitor.Stop()
			var adminErr error
			if adminSrv != nil {
				ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
				adminErr = adminSrv.Shutdown(ctx)
				cancel()
			}
			// The server has drained: every request's span has ended, and the flush sends
			// those still in the batch before this generation exits.
			tracingErr := shutdownTracing(tracer, cfg.Server.ShutdownTimeout)
			return errors.Join(adminErr, tracingErr, models.Close(db))
		}
		return handler, cleanup, nil
	}
	if err := restart.Run(ctx, restart.Fork, opts, build); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// shutdownTracing flushes and stops t (nil: tracing is off) within timeout.
func shutdownTracing(t *tracing.Tracing, timeout time.Duration) error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return t.Shutdown(ctx)
}

// runMigrate runs the migrate subcommand (migrate up|down|status) with the database of the
// settings file.
func runMigrate(ctx context.Context, configPath string, args []string) error {
	cfg, err := setting.Load(configPath)
	if err != nil {
		return err
	}
	return migrate.Command(ctx, cfg.Database, args, os.Stdout, newLogger(cfg.App))
}

func newLogger(app setting.App) *slog.Logger {
	var level slog.Level
	// The level was validated by setting.Load.
	_ = level.UnmarshalText([]byte(app.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if app.RunMode == gin.ReleaseMode {
		return slog.New(middleware.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(middleware.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}
