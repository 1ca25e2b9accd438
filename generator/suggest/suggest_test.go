package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"golang", "golangci-lint", "git-init", "kubectl"}
	for got, want := range map[string]string{"golnag": "golang", "GOLANG": "golang", "git_init": "git-init", "kubctl": "kubectl", "nginx": "", "": ""} {
		if c := Closest(got, names); c != want {
			t.Errorf("Closest(%q) = %q, want %q", got, c, want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d, want 3", d)
	}
}
