package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kopilka/kopilka/bench/loadgen"
)

// bench drives a running server with concurrent tills and reports how many
// purchases it confirms per second. With -json it prints one JSON line on
// standard output for scripts and the report for people on standard error.
func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg loadgen.Config
	fs.StringVar(&cfg.BaseURL, "url", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&cfg.Key, "key", env("BOOTSTRAP_KEY", ""), "an admin API key (default: $KOPILKA_BOOTSTRAP_KEY)")
	fs.IntVar(&cfg.Members, "members", 1000, "members to create and buy")
	fs.IntVar(&cfg.Tills, "tills", 16, "concurrent tills (connections)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to measure")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "how long to run before measuring")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "decides the members' phone numbers and the receipts")
	spend := fs.Float64("spend", 0.5, "share of receipts that spend points, 0 to 1")
	fs.BoolVar(&cfg.Calculate, "calculate", false, "quote each receipt before confirming it (only confirmations are timed)")
	asJSON := fs.Bool("json", false, "print one JSON line of the figures on standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Key == "" {
		return errors.New("bench: give an admin key with -key or KOPILKA_BOOTSTRAP_KEY")
	}
	if *spend < 0 || *spend > 1 {
		return errors.New("bench: -spend must be between 0 and 1")
	}
	cfg.SpendShare = *spend
	if *spend == 0 {
		cfg.SpendShare = -1 // none; zero would mean the default
	}
	cfg.Log = os.Stderr
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if *asJSON {
		res.Report(os.Stderr)
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Println(string(b))
	} else {
		res.Report(os.Stdout)
	}
	if res.Confirmed == 0 {
		return errors.New("bench: no purchase was confirmed")
	}
	return nil
}
