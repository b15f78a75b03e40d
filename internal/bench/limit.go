package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// serverLimit is the server's own ceiling for the Get measurement: 32
// goroutines, each posting the statement an ent Get runs on its own warm
// stream (the baton of its previous answer) over keep-alive connections,
// with nothing of a driver around.
func serverLimit(ctx context.Context, url string, userID int) (float64, error) {
	stmt := fmt.Sprintf(`{"type":"execute","stmt":{"sql":`+
		`"SELECT users.id, users.name, users.age FROM users WHERE users.id = ? LIMIT 2",`+
		`"args":[{"type":"integer","value":"%d"}]}}`, userID)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	batons := make(chan string, 64)
	for i := 0; i < 32; i++ {
		batons <- ""
	}
	r, err := throughput(ctx, 32, 2*time.Second, func(ctx context.Context) error {
		baton := <-batons
		b, _ := json.Marshal(baton)
		if baton == "" {
			b = []byte("null")
		}
		body := fmt.Sprintf(`{"baton":%s,"requests":[%s]}`, b, stmt)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v3/pipeline", bytes.NewReader([]byte(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var answer struct {
			Baton string `json:"baton"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("server limit loop: HTTP %d", resp.StatusCode)
		}
		batons <- answer.Baton
		return nil
	})
	return r.value, err
}
