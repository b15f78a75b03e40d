package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// serverLimit is the server's own ceiling for the Get measurement: 32
// goroutines posting the request an ent Get makes (the statement with its
// close) over keep-alive connections, with nothing of a driver around.
func serverLimit(ctx context.Context, url string, userID int) (float64, error) {
	body := []byte(fmt.Sprintf(`{"baton":null,"requests":[{"type":"execute","stmt":{"sql":`+
		`"SELECT users.id, users.name, users.age FROM users WHERE users.id = ? LIMIT 2",`+
		`"args":[{"type":"integer","value":"%d"}]}},{"type":"close"}]}`, userID))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	r, err := throughput(ctx, 32, 2*time.Second, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v3/pipeline", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("server limit loop: HTTP %d", resp.StatusCode)
		}
		return nil
	})
	return r.value, err
}
