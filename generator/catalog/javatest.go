package catalog

import (
	"time"

	"github.com/pipewright/pipewright/pkg/images"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

func init() { register("java-test", javaTest) }

func javaTest() Entry {
	params := []v1.ParamSpec{
		contextParam(),
		strParam("goals", "Maven goals or Gradle tasks to run, space separated.", "test"),
		strParam("flags", "Extra Maven/Gradle flags, space separated.", ""),
		logNameParam(),
	}
	return Entry{
		Name:        "java-test",
		Version:     "0.1",
		DisplayName: "Java Test (Maven or Gradle)",
		Categories:  []string{"Testing"},
		Tags:        []string{"java", "maven", "gradle", "test"},
		Summary:     "Runs a Java project's tests with its Gradle or Maven wrapper, or Maven.",
		Details: "Picks the build tool from the files present: ./gradlew, then ./mvnw, then pom.xml with the image's Maven. " +
			"A Gradle project without a wrapper is refused with a hint. The Maven repository and Gradle home go to the optional cache workspace.",
		Spec: v1.TaskSpec{
			Params:     params,
			Workspaces: sourceAndCache("Maven repository, Gradle home"),
			Steps: []v1.Step{stepSpec{
				Name:       "test",
				Image:      images.Maven,
				Params:     paramNames(params),
				Workspaces: []string{"source", "cache"},
				KeepLog:    true,
				CPU:        "1", Memory: "2Gi",
				Timeout: 30 * time.Minute,
				Script: enterSource + `
cache="${HOME}"
if [ "${WORKSPACE_CACHE_BOUND}" = "true" ]; then
  cache="${WORKSPACE_CACHE_PATH}"
fi
export GRADLE_USER_HOME="${cache}/gradle"
export MAVEN_USER_HOME="${cache}/m2"
set -f
# shellcheck disable=SC2086 # goals and flags are lists
if [ -x ./gradlew ]; then
  ./gradlew --no-daemon ${PARAM_FLAGS} ${PARAM_GOALS}
elif [ -x ./mvnw ]; then
  ./mvnw -B -Dmaven.repo.local="${cache}/m2/repository" ${PARAM_FLAGS} ${PARAM_GOALS}
elif [ -f pom.xml ]; then
  mvn -B -Dmaven.repo.local="${cache}/m2/repository" ${PARAM_FLAGS} ${PARAM_GOALS}
elif [ -f build.gradle ] || [ -f build.gradle.kts ]; then
  echo "Gradle project without ./gradlew: commit the Gradle wrapper (gradle wrapper) so the build is reproducible" >&2
  exit 1
else
  echo "no pom.xml, build.gradle or wrapper in $(pwd)" >&2
  exit 1
fi
`,
			}.build()},
		},
		Example: map[string]string{},
		Writes:  []string{"source"},
	}
}
