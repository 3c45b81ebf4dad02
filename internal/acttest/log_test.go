package acttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
)

// actLog is what act's --json log says.
type actLog struct {
	results   map[string]int      // job result -> jobs
	summaries map[string][]string // job -> the step summaries act showed
	raw       string              // the steps' output
	lines     []string
}

func parseLog(t *testing.T, out []byte) *actLog {
	t.Helper()
	l := &actLog{results: map[string]int{}, summaries: map[string][]string{}}
	var raw strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e struct {
			Job       string `json:"job"`
			Msg       string `json:"msg"`
			Command   string `json:"command"`
			Content   string `json:"content"`
			JobResult string `json:"jobResult"`
			RawOutput bool   `json:"raw_output"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			l.lines = append(l.lines, sc.Text())
			continue
		}
		l.lines = append(l.lines, e.Job+": "+strings.TrimRight(e.Msg, "\n"))
		switch {
		case e.JobResult != "":
			l.results[e.JobResult]++
		case e.Command == "summary":
			l.summaries[e.Job] = append(l.summaries[e.Job], e.Content)
		case e.RawOutput:
			raw.WriteString(e.Msg)
		}
	}
	l.raw = raw.String()
	return l
}

func (l *actLog) allSummaries() string {
	var b strings.Builder
	for _, s := range l.summaries {
		b.WriteString(strings.Join(s, "\n") + "\n")
	}
	return b.String()
}

// jobsSaying are the jobs whose summaries contain s.
func (l *actLog) jobsSaying(s string) []string {
	var jobs []string
	for job, sums := range l.summaries {
		if strings.Contains(strings.Join(sums, "\n"), s) {
			jobs = append(jobs, job)
		}
	}
	sort.Strings(jobs)
	return jobs
}

// jobNamed is the job whose name ends in "/"+name (act names the jobs of a
// called workflow CALLER-WORKFLOW/JOB/NAME).
func (l *actLog) jobNamed(name string) string {
	for job := range l.summaries {
		if strings.HasSuffix(strings.TrimSpace(job), "/"+name) {
			return job
		}
	}
	return ""
}

// linesWith are the distinct lines of s that contain sub (act may show a
// step summary more than once).
func linesWith(s, sub string) []string {
	set := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			set[l] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (l *actLog) text() string { return tail(strings.Join(l.lines, "\n"), 12000) }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
