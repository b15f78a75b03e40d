package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The references the drivers are held against: Hrana requests posted by
// hand, with nothing of a driver around, over keep-alive connections.

// bare posts Hrana pipelines with the headers the driver sends and reads
// each answer whole, so that its connection goes back to the pool.
type bare struct {
	client *http.Client
	url    string
}

func newBare(url string) *bare {
	return &bare{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, url: url + "/v3/pipeline"}
}

func (b *bare) close() { b.client.CloseIdleConnections() }

// post sends requests (a JSON array's elements) on the stream of baton
// ("" opens one) and returns the baton to continue it.
func (b *bare) post(ctx context.Context, baton, requests string) (string, error) {
	bt := []byte("null")
	if baton != "" {
		bt, _ = json.Marshal(baton)
	}
	body := fmt.Sprintf(`{"baton":%s,"requests":[%s]}`, bt, requests)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader([]byte(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := b.client.Do(req)
	if err != nil {
		return "", err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	var answer struct {
		Baton string `json:"baton"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return "", err
	}
	return answer.Baton, nil
}

// serverLimit is the server's own ceiling for the Get measurement: 32
// goroutines, each posting the statement an ent Get runs on a warm stream
// (the baton of a previous answer).
func serverLimit(ctx context.Context, url string, userID int) (float64, error) {
	stmt := fmt.Sprintf(`{"type":"execute","stmt":{"sql":`+
		"\"SELECT `users`.`id`, `users`.`name`, `users`.`age` FROM `users` WHERE `users`.`id` = ? LIMIT 2\","+
		`"args":[{"type":"integer","value":"%d"}]}}`, userID)
	b := newBare(url)
	defer b.close()
	batons := make(chan string, 32)
	for i := 0; i < 32; i++ {
		batons <- ""
	}
	r, err := throughput(ctx, 32, 2*time.Second, func(ctx context.Context) error {
		baton, err := b.post(ctx, <-batons, stmt)
		batons <- baton
		return err
	})
	return r.value, err
}

// bareTransaction is the floor of the 3-insert transaction through the
// proxy at url: the 4 requests the driver sends (BEGIN with the first
// INSERT, two INSERTs, COMMIT), posted one after another on a warm
// stream. It returns the time per transaction.
func bareTransaction(ctx context.Context, url string, authorID int) (float64, error) {
	insert := fmt.Sprintf(`{"sql":"INSERT INTO `+"`posts` (`title`, `published`, `views`, `user_posts`) VALUES (?, ?, ?, ?) RETURNING `id`"+`",`+
		`"args":[{"type":"text","value":"tx"},{"type":"integer","value":"0"},{"type":"integer","value":"0"},{"type":"integer","value":"%d"}]}`, authorID)
	requests := []string{
		`{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN","want_rows":false}},` +
			`{"condition":{"type":"ok","step":0},"stmt":` + insert + `}]}}`,
		`{"type":"execute","stmt":` + insert + `}`,
		`{"type":"execute","stmt":` + insert + `}`,
		`{"type":"batch","batch":{"steps":[{"stmt":{"sql":"COMMIT","want_rows":false}},` +
			`{"condition":{"type":"error","step":0},"stmt":{"sql":"ROLLBACK","want_rows":false}}]}}`,
	}
	b := newBare(url)
	defer b.close()
	baton, err := b.post(ctx, "", `{"type":"execute","stmt":{"sql":"SELECT 1"}}`) // warm the stream
	if err != nil {
		return 0, err
	}
	const n = 10
	start := time.Now()
	for i := 0; i < n; i++ {
		for _, r := range requests {
			if baton, err = b.post(ctx, baton, r); err != nil {
				return 0, err
			}
		}
	}
	return float64(time.Since(start)) / n, nil
}
