package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Job is an import the server runs after answering: its status
// ("running", "done" or "failed"), the summary so far and, when failed,
// why.
type Job struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Status    string          `json:"status"`
	Summary   json.RawMessage `json:"summary"`
	Error     string          `json:"error,omitempty"`
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// JobTx keeps the jobs.
type JobTx interface {
	access.Auditor
	PutJob(ctx context.Context, j Job) error
	// Job returns a job, or ENOTFOUND.
	Job(ctx context.Context, id string) (Job, error)
}

// MaxJobBody is the largest file a member import job takes over the API
// (32 MiB: some 200,000 members); larger files go through the command.
const MaxJobBody = 32 << 20

// StartMemberImport starts importing members from body as a job of this
// server and returns it at once (role admin); GetJob follows it. The job
// runs as the caller, each member's audit entry naming them. A server
// stopped part way leaves the job "running": the same file sent again
// finishes the work, the members done being skipped.
func (s *Service) StartMemberImport(ctx context.Context, body []byte, format, source string) (Job, error) {
	if err := access.Allow(ctx, access.ImportRun); err != nil {
		return Job{}, err
	}
	if _, err := memberRows(bytes.NewReader(body), format); err != nil {
		return Job{}, err
	}
	if source == "" {
		return Job{}, kopilka.FieldErr(kopilka.EINVALID, "source", "name the platform the members come from")
	}
	now := s.Env.Time()
	j := Job{ID: s.Env.NewID(), Kind: "members", Status: "running", Summary: json.RawMessage(`{}`),
		CreatedBy: kopilka.PrincipalFrom(ctx).Actor(), CreatedAt: now, UpdatedAt: now}
	if err := s.Jobs.Update(ctx, func(tx JobTx) error { return tx.PutJob(ctx, j) }); err != nil {
		return Job{}, err
	}
	bg := context.WithoutCancel(ctx) // the job outlives the request
	job := j                         // the goroutine's own copy: j is answered now
	go func() {
		save := func(sum MemberSummary, status, failure string) {
			raw, _ := json.Marshal(sum)
			job.Summary, job.Status, job.Error, job.UpdatedAt = raw, status, failure, s.Env.Time()
			if err := s.Jobs.Update(bg, func(tx JobTx) error { return tx.PutJob(bg, job) }); err != nil {
				slog.Error("import job", "job", job.ID, "err", err)
			}
		}
		sum, err := s.ImportMembers(bg, bytes.NewReader(body), format, source, func(sum MemberSummary) {
			if !sum.Done {
				save(sum, "running", "")
			}
		})
		if err != nil {
			save(sum, "failed", err.Error())
			return
		}
		save(sum, "done", "")
	}()
	return j, nil
}

// GetJob returns an import job (role admin).
func (s *Service) GetJob(ctx context.Context, id string) (Job, error) {
	if err := access.Allow(ctx, access.ImportRun); err != nil {
		return Job{}, err
	}
	var j Job
	err := s.Jobs.View(ctx, func(tx JobTx) (err error) {
		j, err = tx.Job(ctx, id)
		return err
	})
	return j, err
}
