#!/usr/bin/python3
"""pipeline.py - read a ciq CI template the way its provider does.

Usage:
  pipeline.py check PROVIDER FILE [SCHEMA]
      Validate FILE against the JSON Schema SCHEMA (when given), then
      assert the structure ciq relies on: N workers, a reporter that runs
      even when a worker failed, the queue as a secret, the install step.
      Prints "ok PROVIDER" or the problems, one a line, and exits 1.
  pipeline.py info PROVIDER FILE
      Prints "workers N" and "reporter MODE", where MODE is "after" (a
      job that waits for the workers), "concurrent" (a job that starts
      with them and waits on the queue) or "worker0" (worker 0 reports
      after its own loop).
  pipeline.py shell PROVIDER FILE DIR
      Writes the whole shell of every job, install step included, to
      DIR/JOB.sh with a #!/bin/sh line, and prints the file names.
  pipeline.py script PROVIDER FILE worker|report [--index I] [--secret NAME=VALUE]...
      Prints a sh script that does what the job of that role does after
      ciq is installed: the environment the template gives the job
      (pipeline and job variables, provider expressions such as GitHub's
      ${{ strategy.job-index }} evaluated for worker I, the secrets the job
      is given), then its commands. The install step is left out: the
      caller puts the built tools on PATH.

Run it with Debian's /usr/bin/python3 (python3-yaml, python3-jsonschema).
"""
import json
import re
import shlex
import sys

import yaml

PROG = "pipeline.py"
INSTALL_MARK = "# --- install ciq"


class Problem(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Problem(what)


class Job:
    """One CI job as ciq sees it."""

    def __init__(self, name, role, install, commands, env=None, secrets=(),
                 errexit=True):
        self.name = name          # a file-name-safe label
        self.role = role          # "worker" or "report"
        self.install = install    # shell lines of the install step
        self.commands = commands  # shell lines after it
        self.env = env or {}      # NAME -> value as written in the template
        self.secrets = secrets    # names of the secrets the job is given
        self.errexit = errexit    # the provider stops at the first failure


class Model:
    def __init__(self, workers, reporter, jobs):
        self.workers = workers
        self.reporter = reporter
        self.jobs = jobs


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def flatten(v):
    out = []
    for x in as_list(v):
        out.extend(flatten(x) if isinstance(x, list) else [x])
    return out


def env_pairs(items):
    """Travis-style "NAME=value" strings (or a list of them) to a dict."""
    env = {}
    for item in flatten(items):
        need(isinstance(item, str) and "=" in item, "env entry %r is not NAME=value" % (item,))
        for word in shlex.split(item):
            name, _, value = word.partition("=")
            env[name] = value
    return env


def str_env(d):
    need(isinstance(d or {}, dict), "env is not a mapping")
    return {str(k): "" if v is None else str(v) for k, v in (d or {}).items()}


def is_install(block):
    return block.lstrip().startswith(INSTALL_MARK)


# --- Buildkite ---------------------------------------------------------------

def bk_interpolate(cmd):
    """Buildkite replaces $VAR at upload; $$ stands for a literal $.
    The templates defer every variable to the job's shell."""
    need("$" not in cmd.replace("$$", ""),
         "unescaped $ in a Buildkite command (interpolated at upload): %r" % cmd)
    return cmd.replace("$$", "$")


def buildkite(doc):
    steps = [s for s in doc.get("steps", []) if isinstance(s, dict)]
    workers = [s for s in steps if "parallelism" in s]
    need(len(workers) == 1, "one step with parallelism, found %d" % len(workers))
    w = workers[0]
    need(isinstance(w["parallelism"], int) and w["parallelism"] >= 2, "parallelism below 2")
    need(w.get("key"), "the worker step has no key")
    others = [s for s in steps if s is not w]
    need(len(others) == 1, "one report step, found %d" % len(others))
    r = others[0]
    deps = [d if isinstance(d, str) else d.get("step") for d in as_list(r.get("depends_on"))]
    if "depends_on" in r and r["depends_on"] is None:
        mode = "concurrent"
    else:
        need(w["key"] in deps, "the report step does not depend on %r" % w["key"])
        need(r.get("allow_dependency_failure") is True,
             "the report step lacks allow_dependency_failure: true")
        mode = "after"
    jobs = []
    for step, role in ((w, "worker"), (r, "report")):
        cmds = [bk_interpolate(c) for c in as_list(step.get("commands", step.get("command")))]
        need(cmds and is_install(cmds[0]), "the %s step does not start with the install step" % role)
        env = dict(str_env(doc.get("env")), **str_env(step.get("env")))
        sec = step.get("secrets", doc.get("secrets", []))
        sec = list(sec.keys()) if isinstance(sec, dict) else as_list(sec)
        jobs.append(Job("buildkite-" + role, role, cmds[:1], cmds[1:], env, sec))
    return Model(w["parallelism"], mode, jobs)


# --- CircleCI ----------------------------------------------------------------

def circle_steps(doc, steps):
    """Run steps as (name, command), reusable commands expanded."""
    out = []
    for s in steps:
        name, arg = (s, None) if isinstance(s, str) else next(iter(s.items()))
        if name == "checkout":
            continue
        if name == "run":
            if isinstance(arg, str):
                out.append((None, arg))
            else:
                out.append((arg.get("name"), arg["command"]))
        elif name in doc.get("commands", {}):
            out.extend(circle_steps(doc, doc["commands"][name].get("steps", [])))
        else:
            raise Problem("unknown step %r" % name)
    return out


def circleci(doc):
    jobs_def = doc.get("jobs", {})
    flows = list(doc.get("workflows", {}).values())
    flows = [f for f in flows if isinstance(f, dict)]
    need(len(flows) == 1, "one workflow")
    invoked = {}
    for j in flows[0]["jobs"]:
        name, conf = (j, {}) if isinstance(j, str) else next(iter(j.items()))
        invoked[name] = conf or {}
    par = [n for n in invoked if "parallelism" in jobs_def.get(n, {})]
    need(len(par) == 1, "one job with parallelism")
    wname = par[0]
    n = jobs_def[wname]["parallelism"]
    need(isinstance(n, int) and n >= 2, "parallelism below 2")
    rest = [x for x in invoked if x != wname]
    need(len(rest) == 1, "one report job")
    rname = rest[0]
    req = {}
    for x in invoked[rname].get("requires", []):
        k, v = (x, "success") if isinstance(x, str) else next(iter(x.items()))
        req[k] = v
    need(req.get(wname) == "terminal",
         "the report job does not require %s: terminal" % wname)
    jobs = []
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        ex = doc.get("executors", {}).get(jd.get("executor"), {})
        env = dict(str_env(ex.get("environment")), **str_env(jd.get("environment")))
        runs = circle_steps(doc, jd.get("steps", []))
        install = [c for nm, c in runs if nm == "install ciq"]
        need(len(install) == 1 and is_install(install[0]),
             "job %s has no single install step" % jname)
        cmds = [c for nm, c in runs if nm != "install ciq"]
        sec = ["*"] if invoked[jname].get("context") else []
        jobs.append(Job("circleci-" + role, role, install, cmds, env, sec))
    return Model(n, "after", jobs)


# --- Travis CI ---------------------------------------------------------------

def travis(doc):
    include = doc.get("jobs", {}).get("include", [])
    stages = {j.get("stage", "test") for j in include}
    need(len(stages) == 1, "the jobs are in several stages: %s" % sorted(stages))
    glob = env_pairs(doc.get("env", {}).get("global", []))
    install = [str(c) for c in as_list(doc.get("install"))]
    need(install, "no install phase")
    workers, reports = [], []
    for j in include:
        env = dict(glob, **env_pairs(j.get("env", [])))
        cmds = [str(c) for c in as_list(j.get("script"))]
        job = Job("travis-" + re.sub(r"\W+", "-", j.get("name", "job")), None, install, cmds, env, ["*"])
        (workers if "CIQ_WORKER" in env else reports).append(job)
    need(len(reports) == 1, "one report job (without CIQ_WORKER)")
    ids = [w.env["CIQ_WORKER"] for w in workers]
    need(ids == [str(i) for i in range(len(ids))], "worker ids are not 0..N-1: %s" % ids)
    need(len(ids) >= 2, "fewer than 2 workers")
    need(glob.get("CIQ_WORKERS") == str(len(ids)), "CIQ_WORKERS is not %d" % len(ids))
    for w in workers:
        w.role = "worker"
    reports[0].role = "report"
    return Model(len(workers), "concurrent", workers + reports)


# --- Heroku CI ---------------------------------------------------------------

def heroku(doc):
    test = doc.get("environments", {}).get("test", {})
    q = test.get("formation", {}).get("test", {}).get("quantity")
    need(isinstance(q, int) and q >= 2, "environments.test.formation.test.quantity below 2")
    addons = [a if isinstance(a, str) else a.get("plan", "") for a in test.get("addons", [])]
    redis = [a for a in addons if a.startswith("heroku-redis")]
    need(len(redis) == 1, "no heroku-redis add-on")
    need(redis[0] != "heroku-redis:in-dyno", "heroku-redis:in-dyno is per dyno, not shared")
    scripts = test.get("scripts", {})
    need("test-setup" in scripts and "test" in scripts, "scripts test-setup and test")
    need("ciq-report" in scripts["test"] and "CI_NODE_INDEX" in scripts["test"],
         "the test script does not report on dyno 0")
    job = Job("heroku-test", "worker", [scripts["test-setup"]], [scripts["test"]],
              str_env(test.get("env")), ["REDIS_URL"], errexit=False)
    return Model(q, "worker0", [job])


# --- Semaphore 2 -------------------------------------------------------------

def sem_env(items):
    return {e["name"]: str(e.get("value", "")) for e in items or []}


def semaphore(doc):
    need(doc.get("version") == "v1.0", "version is not v1.0")
    need("agent" in doc, "no agent")
    g = doc.get("global_job_config", {})
    blocks = doc.get("blocks", [])
    found = []
    for b in blocks:
        task = b.get("task", {})
        for j in task.get("jobs", []):
            found.append((b, task, j))
    par = [x for x in found if "parallelism" in x[2]]
    need(len(par) == 1, "one job with parallelism")
    rest = [x for x in found if x is not par[0]]
    need(len(rest) == 1, "one report job")
    n = par[0][2]["parallelism"]
    need(isinstance(n, int) and n >= 2, "parallelism below 2")
    wb, rb = par[0][0], rest[0][0]
    need(wb is not rb, "the report job shares the workers' block")
    if rb.get("dependencies") == []:
        mode = "concurrent"
    else:
        # A block that depends on a failed block does not run.
        raise Problem("the report block must start with the workers (dependencies: [])")
    jobs = []
    for (b, task, j), role in ((par[0], "worker"), (rest[0], "report")):
        install = list(g.get("prologue", {}).get("commands", [])) + \
            list(task.get("prologue", {}).get("commands", []))
        need(install, "no prologue with the install step")
        env = dict(sem_env(g.get("env_vars")), **sem_env(task.get("env_vars")))
        env.update(sem_env(j.get("env_vars")))
        # A Semaphore secret is a set of variables: the one named in the
        # README holds CIQ_QUEUE.
        sec = ["*"] if g.get("secrets", []) + task.get("secrets", []) else []
        jobs.append(Job("semaphore-" + role, role, install, list(j.get("commands", [])), env, sec))
    return Model(n, mode, jobs)


# --- GitHub Actions ----------------------------------------------------------

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def github(doc):
    jobs_def = doc.get("jobs", {})
    mat = [k for k, j in jobs_def.items() if "strategy" in j]
    need(len(mat) == 1, "one job with a matrix")
    wname = mat[0]
    w = jobs_def[wname]
    need(w["strategy"].get("fail-fast") is False, "fail-fast is not false")
    axes = w["strategy"]["matrix"]
    need(len(axes) == 1, "a matrix of one axis")
    n = len(next(iter(axes.values())))
    need(n >= 2, "fewer than 2 workers")
    need(str_env(w.get("env")).get("CIQ_WORKER") == "${{ strategy.job-index }}",
         "CIQ_WORKER does not come from strategy.job-index")
    rest = [k for k in jobs_def if k != wname]
    need(len(rest) == 1, "one report job")
    rname = rest[0]
    r = jobs_def[rname]
    need(wname in as_list(r.get("needs")), "the report job does not need %s" % wname)
    need(str(r.get("if", "")).replace("${{", "").replace("}}", "").strip() == "always()",
         "the report job lacks if: always()")
    jobs = []
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        env = dict(str_env(doc.get("env")), **str_env(jd.get("env")))
        runs = [(s.get("name"), s["run"]) for s in jd.get("steps", []) if "run" in s]
        for _, run in runs:
            need("${{" not in run, "an expression inside run: (use env:)")
        install = [c for nm, c in runs if nm == "install ciq"]
        need(len(install) == 1 and is_install(install[0]), "job %s has no single install step" % jname)
        cmds = [c for nm, c in runs if nm != "install ciq"]
        jobs.append(Job("github-" + role, role, install, cmds, env, []))
        jobs[-1].matrix_total = n
    return Model(n, "after", jobs)


def github_eval(value, index, total, secrets):
    def one(m):
        e = m.group(1)
        if e == "strategy.job-index":
            return str(index)
        if e == "strategy.job-total":
            return str(total)
        if e.startswith("secrets."):
            return secrets.get(e[len("secrets."):], "")
        raise Problem("unknown expression %r" % m.group(0))
    return EXPR.sub(one, value)


# --- GitLab CI ---------------------------------------------------------------

GITLAB_KEYWORDS = {"stages", "variables", "default", "include", "workflow", "image",
                   "services", "cache", "before_script", "after_script"}


def gitlab(doc):
    stages = doc.get("stages", [])
    jobs_def = {k: v for k, v in doc.items()
                if k not in GITLAB_KEYWORDS and not k.startswith(".") and isinstance(v, dict)}
    par = [k for k, j in jobs_def.items() if "parallel" in j]
    need(len(par) == 1, "one job with parallel")
    wname = par[0]
    n = jobs_def[wname]["parallel"]
    need(isinstance(n, int) and n >= 2, "parallel below 2")
    rest = [k for k in jobs_def if k != wname]
    need(len(rest) == 1, "one report job")
    rname = rest[0]
    r = jobs_def[rname]
    need(r.get("when") == "always", "the report job lacks when: always")
    need(wname in as_list(r.get("needs")), "the report job does not need %s" % wname)
    ws, rs = jobs_def[wname].get("stage", "test"), r.get("stage", "test")
    need(ws in stages and rs in stages and stages.index(rs) > stages.index(ws),
         "the report job is not in a later stage")
    jobs = []
    default = doc.get("default", {})
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        install = flatten(jd.get("before_script", default.get("before_script")))
        need(install, "job %s has no before_script with the install step" % jname)
        env = dict(str_env(doc.get("variables")), **str_env(jd.get("variables")))
        jobs.append(Job("gitlab-" + role, role, install, flatten(jd.get("script")), env, ["*"]))
    return Model(n, "after", jobs)


PROVIDERS = {
    "buildkite": buildkite, "circleci": circleci, "travis": travis,
    "heroku": heroku, "semaphore": semaphore, "github": github, "gitlab": gitlab,
}


def load(provider, path):
    with open(path) as f:
        if provider == "heroku":
            return json.load(f)
        doc = yaml.safe_load(f)
    # GitHub reads YAML 1.2, where "on" is a string; PyYAML (1.1) makes the
    # key True.
    if provider == "github" and isinstance(doc, dict) and True in doc:
        doc["on"] = doc.pop(True)
    return doc


def validate(doc, schema_path):
    import jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    out = []
    for e in sorted(cls(schema).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        # For anyOf/oneOf, the alternative that went deepest says most.
        while e.context:
            e = max(e.context, key=lambda c: len(c.absolute_path))
        msg = e.message if len(e.message) <= 200 else e.message[:200] + "..."
        out.append("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", msg))
    return out


def secret_given(job, name):
    """Whether the provider puts secret NAME into the job's environment:
    "*" stands for every secret of the store the job is attached to."""
    return "*" in job.secrets or name in job.secrets


def script(provider, model, role, index, secrets):
    if provider == "heroku" and role == "report":
        raise Problem("Heroku CI has no report job: dyno 0 reports (role worker, index 0)")
    jobs = [j for j in model.jobs if j.role == role]
    need(jobs, "no %s job" % role)
    if provider == "travis" and role == "worker":
        need(0 <= index < len(jobs), "no worker job %d" % index)
        job = jobs[index]
    else:
        job = jobs[0]
    lines = ["set -e"] if job.errexit else []
    env = {}
    for name, value in secrets.items():
        if secret_given(job, name):
            env[name] = value
    for name, value in job.env.items():
        if provider == "github":
            value = github_eval(value, index, getattr(job, "matrix_total", 1), secrets)
        env[name] = value
    for name, value in env.items():
        lines.append("export %s=%s" % (name, shlex.quote(value)))
    lines.extend(job.commands)
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) < 3 or argv[0] not in ("check", "info", "shell", "script") \
            or argv[1] not in PROVIDERS:
        sys.stderr.write(__doc__)
        return 64
    cmd, provider, path = argv[:3]
    rest = argv[3:]
    try:
        doc = load(provider, path)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
        return 1
    problems = []
    if cmd == "check" and rest:
        problems = validate(doc, rest[0])
    try:
        model = PROVIDERS[provider](doc)
    except (Problem, KeyError, TypeError, AttributeError, StopIteration) as e:
        problems.append("%s: %s" % (type(e).__name__, e) if not isinstance(e, Problem) else str(e))
        model = None
    if problems:
        for p in problems:
            print("%s: %s: %s" % (PROG, path, p), file=sys.stderr)
        return 1
    try:
        if cmd == "check":
            print("ok %s" % provider)
        elif cmd == "info":
            print("workers %d" % model.workers)
            print("reporter %s" % model.reporter)
        elif cmd == "shell":
            need(len(rest) == 1, "shell needs DIR")
            for job in model.jobs:
                name = "%s/%s.sh" % (rest[0], job.name)
                with open(name, "w") as f:
                    f.write("#!/bin/sh\n" + "\n".join(job.install + job.commands) + "\n")
                print(name)
        else:
            need(rest and rest[0] in ("worker", "report"), "script needs worker or report")
            role, index, secrets, i = rest[0], 0, {}, 1
            while i < len(rest):
                need(i + 1 < len(rest), "%s needs a value" % rest[i])
                if rest[i] == "--index":
                    index = int(rest[i + 1])
                elif rest[i] == "--secret":
                    k, _, v = rest[i + 1].partition("=")
                    secrets[k] = v
                else:
                    raise Problem("unknown option %s" % rest[i])
                i += 2
            sys.stdout.write(script(provider, model, role, index, secrets))
    except Problem as e:
        print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
