package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// Connector is a database/sql driver.Connector for a libSQL server. Use it
// with sql.OpenDB when you want a *sql.DB without ent; Open does this for
// you. It registers no driver name, so it links beside libsql-client-go or
// go-libsql, which both register "libsql".
type Connector struct {
	cfg    Config
	client *hrana.Client
	opts   connOptions
	warm   warmStreams
}

var _ driver.Connector = (*Connector)(nil)

// NewConnector parses dsn (see ParseURL), applies opts and returns a
// connector. It does not contact the server.
func NewConnector(dsn string, opts ...Option) (*Connector, error) {
	cfg, err := ParseURL(dsn)
	if err != nil {
		return nil, err
	}
	urlToken := cfg.AuthToken()
	cfg.setToken("")
	for _, o := range opts {
		o(cfg)
	}
	switch {
	case cfg.AuthToken() == "":
		cfg.setToken(urlToken)
	case urlToken != "" && urlToken != cfg.AuthToken():
		return nil, errors.New("libsql: conflicting auth tokens: the URL and WithAuthToken give different tokens")
	}
	client, err := hrana.NewClient(hrana.Config{
		URL:             cfg.URL,
		AuthToken:       cfg.AuthToken(),
		TokenFunc:       cfg.AuthTokenFunc,
		TLSConfig:       cfg.TLSConfig,
		HTTPClient:      cfg.HTTPClient,
		Logger:          cfg.Logger,
		RequestTimeout:  cfg.RequestTimeout,
		MaxResponseSize: cfg.MaxResponseSize,
		BaseURLHosts:    cfg.BaseURLHosts,
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &Connector{
		cfg:    *cfg,
		client: client,
		opts: connOptions{
			beginSQL: "BEGIN",
			// sqld expires idle HTTP streams; stay well inside its limit.
			stickyIdle:     5 * time.Second,
			requestTimeout: cfg.RequestTimeout,
			shared:         &connShared{},
		},
	}, nil
}

// Config returns the connector's configuration (its String form redacts
// the token).
func (c *Connector) Config() Config { return c.cfg }

// Connect returns a connection. No request is made until it is used.
func (c *Connector) Connect(context.Context) (driver.Conn, error) {
	return &conn{stream: c.client.Stream(), opts: &c.opts, warm: &c.warm}, nil
}

// Driver returns a database/sql driver that opens libSQL URLs. It is not
// registered under any name.
func (c *Connector) Driver() driver.Driver { return sqlDriver{} }

// Close releases the connector's idle HTTP connections; sql.DB.Close
// calls it.
func (c *Connector) Close() error {
	c.warm.close()
	c.client.Close()
	return nil
}

// sqlDriver opens connections from a URL, for database/sql's Driver
// interface. The package never registers it.
type sqlDriver struct{}

var _ driver.DriverContext = sqlDriver{}

func (sqlDriver) Open(dsn string) (driver.Conn, error) {
	c, err := NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

func (sqlDriver) OpenConnector(dsn string) (driver.Connector, error) { return NewConnector(dsn) }
