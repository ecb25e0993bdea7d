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
  pipeline.py action github ACTION.yml [--input NAME=VALUE]...
      Prints a bash script that runs the run: steps of the composite
      action ACTION.yml as GitHub's runner does (a uses: step is skipped:
      for actions/cache, a miss).
  pipeline.py script PROVIDER FILE worker|report [--index I] [--secret NAME=VALUE]... [--append LINE]
      Prints a sh script that does what the job of that role does after
      ciq is installed: the environment the template gives the job
      (pipeline and job variables, provider expressions such as GitHub's
      ${{ strategy.job-index }} evaluated for worker I, the secrets the job
      is given), then its commands, run as the provider runs them (MODES),
      and LINE after them. The install step is left out: the caller puts
      the built tools on PATH.

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
    """One CI job as ciq sees it.

    blocks are the job's shell as the provider runs it, in order (after
    the install step): a GitHub or CircleCI run step, a Semaphore or
    Travis command line, a GitLab job's before_script and script, a
    Buildkite step's commands. mode says how the provider runs them (see
    MODES)."""

    def __init__(self, name, role, install, blocks, env=None, secrets=(), mode="one-e",
                 install_mode=None):
        self.name = name          # a file-name-safe label
        self.role = role          # "worker" or "report"
        self.install = install    # shell blocks of the install step
        self.blocks = blocks      # shell blocks after it
        self.env = env or {}      # NAME -> value as written in the template
        self.secrets = secrets    # names of the secrets the job is given
        self.mode = mode          # how the provider runs the blocks
        self.install_mode = install_mode or mode


# How each provider runs a job's shell blocks.
MODES = {
    # all blocks in one bash: Buildkite's agent, bash -e -c
    "one-e": "one bash -e",
    # GitLab's runner: one bash with set -eo pipefail
    "one-eo": "one bash, set -eo pipefail",
    # GitHub's run: (bash -e {0}); CircleCI's run: (bash -eo pipefail)
    "each-e": "each block in its own bash -e",
    "each-eo": "each block in its own bash -eo pipefail",
    # Semaphore; Travis's install phase: one shell, no -e, the job stops
    # at the first command line that fails
    "each-stop": "one shell, stops at a failed command line",
    # Travis's script phase: one shell, no -e, a failed line fails the job,
    # the next lines still run
    "each-go-on": "one shell, a failed command line fails the job, the rest runs",
    # Heroku CI: the script in one bash, no -e: its last status
    "plain": "one bash, no -e",
}
ERREXIT = {"one-e", "one-eo", "each-e", "each-eo"}
PIPEFAIL = {"one-eo", "each-eo"}


class Model:
    def __init__(self, workers, reporter, jobs, setup=None):
        self.workers = workers
        self.reporter = reporter
        self.jobs = jobs
        # (name, blocks, mode) of the shell that builds ciq once (a build
        # job, the setup action, the orb's job), beside the jobs' own.
        self.setup = setup or []


# --- the shape of a block --------------------------------------------------------

QUOTED = re.compile(r"'[^']*'" + r'|"(?:[^"\\]|\\.)*"')


SUBST = re.compile(r"\$\([^()]*\)")


def logical_lines(block):
    """The block's command lines: comments dropped, a line ending in \\,
    &&, || or | joined with the next."""
    out, cur = [], ""
    for raw in block.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cur = (cur + " " + line).strip() if cur else line
        bare = QUOTED.sub("''", cur)
        if bare.endswith("\\"):
            cur = cur[:-1]
            continue
        if bare.endswith(("&&", "||", "|")) or bare.count("'") % 2:
            continue
        out.append(cur)
        cur = ""
    if cur:
        out.append(cur)
    return out


def shape_problems(label, block, mode):
    """Lines whose shape can hide a failure from the provider:
    - under set -e, an && list before the block's last command: bash
      spares a failure on the left of && (GitLab, Buildkite, GitHub,
      CircleCI), the job goes on and can turn green;
    - a pipe where the provider sets no pipefail and the block does not
      either: the pipeline has the status of its last command."""
    out = []
    lines = logical_lines(block)
    for i, line in enumerate(lines):
        # A command substitution fails as a whole: its && lists are fine.
        bare = SUBST.sub("''", QUOTED.sub("''", line))
        head = bare.split()[0] if bare.split() else ""
        if mode in ERREXIT and i < len(lines) - 1 and "&&" in bare and \
                head not in ("if", "elif", "while", "until"):
            out.append("%s: %r: an && list before the block's last line hides the failure "
                       "of its left side (set -e spares it): one command a line" % (label, line))
        if re.search(r"(^|[^|])\|([^|]|$)", bare) and mode not in PIPEFAIL and \
                "pipefail" not in block:
            out.append("%s: %r: a pipe without pipefail has the status of its last command" %
                       (label, line))
    return out


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


def builds_ciq(blocks):
    """Whether the shell BLOCKS build and install ciq."""
    return any(re.search(r"\bmake\b.*\binstall\b", str(b)) for b in blocks)


# --- Buildkite ---------------------------------------------------------------

def bk_interpolate(cmd):
    """Buildkite replaces $VAR at upload; $$ stands for a literal $.
    The templates defer every variable to the job's shell."""
    need("$" not in cmd.replace("$$", ""),
         "unescaped $ in a Buildkite command (interpolated at upload): %r" % cmd)
    return cmd.replace("$$", "$")


def bk_plugin(step):
    """The ciq plugin's configuration in STEP ({} when unset), or None."""
    for p in as_list(step.get("plugins")):
        name, conf = (p, None) if isinstance(p, str) else next(iter(p.items()))
        if re.search(r"(^|/)ciq(-buildkite-plugin)?(#|$)", name):
            return conf or {}
    return None


def bk_plugin_config(doc, path):
    """Each step's ciq plugin configuration against the JSON Schema in
    the plugin's plugin.yml (ciq-buildkite-plugin/ beside the pipeline)."""
    import os
    import jsonschema
    with open(os.path.join(os.path.dirname(path), "ciq-buildkite-plugin", "plugin.yml")) as f:
        plugin = yaml.safe_load(f)
    need(plugin.get("name") == "ciq", "plugin.yml: the plugin is not named ciq")
    schema = dict(plugin["configuration"], type="object")
    out = []
    for i, step in enumerate(doc.get("steps", [])):
        conf = bk_plugin(step) if isinstance(step, dict) else None
        for e in jsonschema.Draft7Validator(schema).iter_errors(conf or {}):
            out.append("steps/%d: the ciq plugin: %s" % (i, e.message))
    return out


def buildkite(doc):
    steps = [s for s in doc.get("steps", []) if isinstance(s, dict)]
    builds = [s for s in steps if (bk_plugin(s) or {}).get("build") is True]
    need(len(builds) == 1, "one step with the ciq plugin's build: true, found %d" % len(builds))
    b = builds[0]
    workers = [s for s in steps if "parallelism" in s]
    need(len(workers) == 1, "one step with parallelism, found %d" % len(workers))
    w = workers[0]
    need(isinstance(w["parallelism"], int) and w["parallelism"] >= 2, "parallelism below 2")
    need(w.get("key"), "the worker step has no key")
    need(b.get("key") and b["key"] in as_list(w.get("depends_on")),
         "the worker step does not depend on the build step")
    others = [s for s in steps if s is not w and s is not b]
    need(len(others) == 1, "one report step, found %d" % len(others))
    r = others[0]
    deps = [d if isinstance(d, str) else d.get("step") for d in as_list(r.get("depends_on"))]
    need(w["key"] in deps, "the report step does not depend on %r" % w["key"])
    need(r.get("allow_dependency_failure") is True,
         "the report step lacks allow_dependency_failure: true")
    jobs = []
    for step, role in ((w, "worker"), (r, "report")):
        need(bk_plugin(step) is not None, "the %s step does not use the ciq plugin" % role)
        cmds = [bk_interpolate(c) for c in as_list(step.get("commands", step.get("command")))]
        need(cmds, "the %s step has no commands" % role)
        env = dict(str_env(doc.get("env")), **str_env(step.get("env")))
        sec = step.get("secrets", doc.get("secrets", []))
        sec = list(sec.keys()) if isinstance(sec, dict) else as_list(sec)
        # The agent joins a step's commands into one script.
        jobs.append(Job("buildkite-" + role, role, [], ["\n".join(cmds)], env, sec, "one-e"))
    return Model(w["parallelism"], "after", jobs)


# --- CircleCI ----------------------------------------------------------------

def circle_steps(doc, orb, steps, params=None):
    """Run steps as (name, command), reusable commands (the config's and
    the orb's, ciq/NAME) expanded."""
    out = []
    for s in steps:
        name, arg = (s, None) if isinstance(s, str) else next(iter(s.items()))
        if name in ("checkout", "attach_workspace", "persist_to_workspace",
                    "save_cache", "restore_cache"):
            continue
        if name == "run":
            if isinstance(arg, str):
                out.append((None, arg))
            else:
                out.append((arg.get("name"), arg["command"]))
        elif name in doc.get("commands", {}):
            out.extend(circle_steps(doc, orb, doc["commands"][name].get("steps", [])))
        elif name.startswith("ciq/") and name[4:] in orb.get("commands", {}):
            out.extend(circle_steps(orb, orb, orb["commands"][name[4:]].get("steps", [])))
        else:
            raise Problem("unknown step %r" % name)
    return out


def circleci(doc, orb):
    jobs_def = doc.get("jobs", {})
    flows = list(doc.get("workflows", {}).values())
    flows = [f for f in flows if isinstance(f, dict)]
    need(len(flows) == 1, "one workflow")
    need(any(str(v).endswith(("/ciq@0.1.0",)) or "ciq" in str(v)
             for v in (doc.get("orbs") or {}).values()), "no ciq orb under orbs:")
    invoked = {}
    for j in flows[0]["jobs"]:
        name, conf = (j, {}) if isinstance(j, str) else next(iter(j.items()))
        invoked[name] = conf or {}
    need("ciq/build" in invoked, "the workflow does not run ciq/build")
    need("build" in orb.get("jobs", {}), "the orb has no job build")
    par = [n for n in invoked if "parallelism" in jobs_def.get(n, {})]
    need(len(par) == 1, "one job with parallelism")
    wname = par[0]
    n = jobs_def[wname]["parallelism"]
    need(isinstance(n, int) and n >= 2, "parallelism below 2")
    rest = [x for x in invoked if x not in (wname, "ciq/build")]
    need(len(rest) == 1, "one report job")
    rname = rest[0]

    def requires(name):
        req = {}
        for x in invoked[name].get("requires", []):
            k, v = (x, "success") if isinstance(x, str) else next(iter(x.items()))
            req[k] = v
        return req
    need(requires(rname).get(wname) == "terminal",
         "the report job does not require %s: terminal" % wname)
    need("ciq/build" in requires(wname), "the %s job does not require ciq/build" % wname)
    jobs = []
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        ex = doc.get("executors", {}).get(jd.get("executor"), {})
        env = dict(str_env(ex.get("environment")), **str_env(jd.get("environment")))
        runs = circle_steps(doc, orb, jd.get("steps", []))
        install = [c for nm, c in runs if nm == "install ciq"]
        need(len(install) == 1 and is_install(install[0]),
             "job %s does not run ciq/install" % jname)
        cmds = [c for nm, c in runs if nm != "install ciq"]
        sec = ["*"] if invoked[jname].get("context") else []
        jobs.append(Job("circleci-" + role, role, install, cmds, env, sec, "each-eo"))
    build = [c for _, c in circle_steps(orb, orb, orb["jobs"]["build"].get("steps", []))]
    need(build and is_install(build[0]), "the orb's build job has no install step")
    return Model(n, "after", jobs, [("circleci-orb-build", build, "each-eo")])


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
        job = Job("travis-" + re.sub(r"\W+", "-", j.get("name", "job")), None, install, cmds,
                  env, ["*"], "each-go-on", "each-stop")
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
              str_env(test.get("env")), ["REDIS_URL"], "plain")
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
    rest = [x for x in found if x is not par[0] and x[0].get("name") != blocks[0].get("name")]
    need(len(rest) == 1, "one report job")
    n = par[0][2]["parallelism"]
    need(isinstance(n, int) and n >= 2, "parallelism below 2")
    wb, rb = par[0][0], rest[0][0]
    need(wb is not rb, "the report job shares the workers' block")
    # A block that depends on a failed block does not run: the report
    # block must not wait for the workers' block.
    need(wb.get("name") not in (rb.get("dependencies") or []),
         "the report block must start with the workers (not depend on their block)")
    bb = blocks[0]
    need(bb is not wb and bb is not rb, "the first block builds ciq")
    need(bb.get("name") in (wb.get("dependencies") or []) and
         bb.get("name") in (rb.get("dependencies") or []),
         "the workers and the report do not wait for the build block")
    jobs = []
    for (b, task, j), role in ((par[0], "worker"), (rest[0], "report")):
        install = list(g.get("prologue", {}).get("commands", [])) + \
            list(task.get("prologue", {}).get("commands", []))
        need(install, "no prologue that installs ciq")
        env = dict(sem_env(g.get("env_vars")), **sem_env(task.get("env_vars")))
        env.update(sem_env(j.get("env_vars")))
        # A Semaphore secret is a set of variables: the one named in the
        # README holds CIQ_QUEUE.
        sec = ["*"] if g.get("secrets", []) + task.get("secrets", []) else []
        jobs.append(Job("semaphore-" + role, role, install, list(j.get("commands", [])), env, sec,
                        "each-stop"))
    build = [str(c) for c in bb["task"]["jobs"][0].get("commands", [])]
    need(builds_ciq(build), "the first block does not build ciq")
    return Model(n, "concurrent", jobs, [("semaphore-build", build, "each-stop")])


# --- GitHub Actions ----------------------------------------------------------

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def uses_setup(steps):
    return any(re.search(r"(^|/)setup-ciq(@|$)", str(s.get("uses", ""))) for s in steps)


def github_action(action):
    """The shell of the setup-ciq composite action: (name, blocks, mode)."""
    runs = action.get("runs", {})
    need(runs.get("using") == "composite", "setup-ciq is not a composite action")
    blocks = []
    for s in runs.get("steps", []):
        if "run" in s:
            # shell: bash is bash --noprofile --norc -eo pipefail {0}.
            need(s.get("shell") == "bash", "a setup-ciq run step without shell: bash")
            blocks.append(s["run"])
    need(any(is_install(b) for b in blocks), "setup-ciq has no install step")
    need(any("GITHUB_PATH" in b for b in blocks), "setup-ciq does not add to GITHUB_PATH")
    need(any(str(s.get("uses", "")).startswith("actions/cache@") for s in runs.get("steps", [])),
         "setup-ciq does not use actions/cache")
    return ("github-setup-ciq", blocks, "each-eo")


def github(doc, action):
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
    always = [k for k, j in jobs_def.items()
              if str(j.get("if", "")).replace("${{", "").replace("}}", "").strip() == "always()"]
    need(len(always) == 1, "the report job lacks if: always()")
    rname = always[0]
    r = jobs_def[rname]
    need(wname in as_list(r.get("needs")), "the report job does not need %s" % wname)
    rest = [k for k in jobs_def if k not in (wname, rname)]
    need(len(rest) == 1 and uses_setup(jobs_def[rest[0]].get("steps", [])),
         "one job that builds ciq with setup-ciq")
    need(rest[0] in as_list(w.get("needs")), "the %s job does not need %s" % (wname, rest[0]))
    jobs = []
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        need(uses_setup(jd.get("steps", [])), "job %s does not use setup-ciq" % jname)
        env = dict(str_env(doc.get("env")), **str_env(jd.get("env")))
        runs = [s["run"] for s in jd.get("steps", []) if "run" in s]
        for run in runs:
            need("${{" not in run, "an expression inside run: (use env:)")
        jobs.append(Job("github-" + role, role, [], runs, env, [], "each-e"))
        jobs[-1].matrix_total = n
    return Model(n, "after", jobs, [github_action(action)])


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


def deep_merge(base, over):
    """GitLab's merge for include and extends: hashes merge key by key,
    anything else is replaced."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(base[k], v) if k in base else v
    return out


def gitlab_expand(doc, path):
    """include: local: FILE (looked for beside the template, by its base
    name: the template's folder holds it), then extends: resolved."""
    import os
    merged = {}
    for inc in as_list(doc.get("include")):
        need(isinstance(inc, dict) and "local" in inc, "only include: local: is read here")
        name = os.path.join(os.path.dirname(path), os.path.basename(inc["local"]))
        with open(name) as f:
            merged = deep_merge(merged, yaml.safe_load(f))
    merged = deep_merge(merged, {k: v for k, v in doc.items() if k != "include"})

    def resolve(name, seen=()):
        need(name not in seen, "extends loop at %s" % name)
        job = merged[name]
        out = {}
        for parent in as_list(job.get("extends")):
            need(parent in merged, "extends: %s is not defined" % parent)
            out = deep_merge(out, resolve(parent, seen + (name,)))
        return deep_merge(out, {k: v for k, v in job.items() if k != "extends"})
    for k in list(merged):
        if k not in GITLAB_KEYWORDS and isinstance(merged[k], dict):
            merged[k] = resolve(k)
    return merged


def gitlab(doc, path):
    doc = gitlab_expand(doc, path)
    stages = doc.get("stages", [])
    jobs_def = {k: v for k, v in doc.items()
                if k not in GITLAB_KEYWORDS and not k.startswith(".") and isinstance(v, dict)}
    par = [k for k, j in jobs_def.items() if "parallel" in j]
    need(len(par) == 1, "one job with parallel")
    wname = par[0]
    n = jobs_def[wname]["parallel"]
    need(isinstance(n, int) and n >= 2, "parallel below 2")
    always = [k for k, j in jobs_def.items() if j.get("when") == "always"]
    need(len(always) == 1, "the report job lacks when: always")
    rname = always[0]
    r = jobs_def[rname]
    rest = [k for k in jobs_def if k not in (wname, rname)]
    need(len(rest) == 1, "one job that builds ciq")
    bname = rest[0]
    b = jobs_def[bname]
    need(wname in as_list(r.get("needs")), "the report job does not need %s" % wname)
    need(bname in as_list(r.get("needs")) and bname in as_list(jobs_def[wname].get("needs")),
         "the worker and report jobs do not need %s (its artifact)" % bname)
    bs, ws, rs = (j.get("stage", "test") for j in (b, jobs_def[wname], r))
    need(all(s in stages for s in (bs, ws, rs)) and
         stages.index(bs) < stages.index(ws) < stages.index(rs),
         "the stages are not build < workers < report")
    build = flatten(b.get("script"))
    need(builds_ciq(build), "the build job does not build ciq")
    need(b.get("artifacts", {}).get("paths"), "the build job keeps no artifact")
    jobs = []
    default = doc.get("default", {})
    for jname, role in ((wname, "worker"), (rname, "report")):
        jd = jobs_def[jname]
        before = flatten(jd.get("before_script", default.get("before_script")))
        env = dict(str_env(doc.get("variables")), **str_env(jd.get("variables")))
        # The runner runs before_script and script in one bash.
        jobs.append(Job("gitlab-" + role, role, [], ["\n".join(before + flatten(jd.get("script")))],
                        env, ["*"], "one-eo"))
    return Model(n, "after", jobs, [("gitlab-build", ["\n".join(build)], "one-eo")])


PROVIDERS = {
    "buildkite": buildkite, "circleci": circleci, "travis": travis,
    "heroku": heroku, "semaphore": semaphore, "github": github, "gitlab": gitlab,
}


def model_of(provider, doc, path):
    import os
    here = os.path.dirname(path)
    if provider == "gitlab":
        return gitlab(doc, path)
    if provider == "circleci":
        with open(os.path.join(here, "orb.yml")) as f:
            return circleci(doc, yaml.safe_load(f))
    if provider == "github":
        with open(os.path.join(here, "setup-ciq", "action.yml")) as f:
            return github(doc, yaml.safe_load(f))
    return PROVIDERS[provider](doc)


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


def run_blocks(blocks, mode):
    """bash that runs BLOCKS the way the provider's runner does (MODES)."""
    if mode in ("one-e", "one-eo", "plain"):
        head = {"one-e": "set -e", "one-eo": "set -eo pipefail", "plain": ""}[mode]
        return ([head] if head else []) + ["\n".join(blocks)]
    if mode in ("each-e", "each-eo"):
        opts = "-e" if mode == "each-e" else "-eo pipefail"
        return ["bash %s -c %s || exit $?" % (opts, shlex.quote(b)) for b in blocks]
    if mode == "each-stop":
        return ["%s\n__s=$?; [ \"$__s\" -eq 0 ] || exit \"$__s\"" % b for b in blocks]
    # each-go-on
    return ["__failed=0"] + ["%s\n[ $? -eq 0 ] || __failed=1" % b for b in blocks] + \
        ["exit \"$__failed\""]


def script(provider, model, role, index, secrets, append):
    if provider == "heroku" and role == "report":
        raise Problem("Heroku CI has no report job: dyno 0 reports (role worker, index 0)")
    jobs = [j for j in model.jobs if j.role == role]
    need(jobs, "no %s job" % role)
    if provider == "travis" and role == "worker":
        need(0 <= index < len(jobs), "no worker job %d" % index)
        job = jobs[index]
    else:
        job = jobs[0]
    lines = ["#!/bin/bash", "# %s, as the provider runs it: %s" % (job.name, MODES[job.mode])]
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
    blocks = list(job.blocks)
    if append:
        # A line a user adds after the job's commands: in the same block
        # where the provider joins them, else as one more command.
        if job.mode in ("each-stop", "each-go-on"):
            blocks.append(append)
        else:
            blocks[-1] = blocks[-1].rstrip("\n") + "\n" + append
    lines.extend(run_blocks(blocks, job.mode))
    return "\n".join(lines) + "\n"


def all_shell(model):
    """(label, blocks, mode) of every shell block the provider runs."""
    out = list(model.setup)
    for job in model.jobs:
        out.append((job.name + " install", job.install, job.install_mode))
        out.append((job.name, job.blocks, job.mode))
    return out


def action_driver(action, inputs):
    """bash that runs the run: steps of a composite action as the runner
    does: each in bash --noprofile --norc -eo pipefail with its env:, its
    if:, and its outputs read back from GITHUB_OUTPUT; a uses: step is
    skipped (actions/cache: a miss). The expressions it knows are the
    ones setup-ciq uses: inputs.NAME, steps.ID.outputs.NAME, A || B,
    format('...', github.server_url, github.action_repository) and
    X != 'true'."""
    values = {k: str(v.get("default", "")) for k, v in (action.get("inputs") or {}).items()}
    values.update(inputs)

    def expr(e):
        e = e.strip()
        m = re.fullmatch(r"(.+?)\s*!=\s*'([^']*)'", e)
        if m:
            return "\"$([ \"%s\" != %s ] && echo true)\"" % (expr(m.group(1)).strip('"'),
                                                         shlex.quote(m.group(2)))
        if "||" in e:
            a, b = e.split("||", 1)
            return "\"$(a=%s; [ -n \"$a\" ] && echo \"$a\" || echo %s)\"" % (expr(a), expr(b))
        m = re.fullmatch(r"inputs\.([\w-]+)", e)
        if m:
            return shlex.quote(values.get(m.group(1), ""))
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e)
        if m:
            return "\"$(sed -n 's/^%s=//p' \"$STEPS/%s\" 2>/dev/null)\"" % (m.group(2), m.group(1))
        m = re.fullmatch(r"format\('([^']*)',\s*github\.server_url,\s*github\.action_repository\)", e)
        if m:
            return '"%s"' % m.group(1).replace("{0}", "$GITHUB_SERVER_URL").replace(
                "{1}", "$GITHUB_ACTION_REPOSITORY")
        raise Problem("unknown expression %r" % e)

    def value(v):
        v = str(v)
        m = EXPR.fullmatch(v.strip())
        return expr(m.group(1)) if m else shlex.quote(v)
    lines = ["#!/bin/bash", "# the run: steps of a composite action, as the runner runs them",
             "set -u", 'STEPS=$(mktemp -d "${RUNNER_TEMP:-/tmp}/steps.XXXXXX")']
    for i, step in enumerate(action.get("runs", {}).get("steps", [])):
        sid = step.get("id", "step%d" % i)
        if "uses" in step:
            lines.append("# %s: %s skipped" % (sid, step["uses"]))
            continue
        cond = str(step.get("if", "")).strip()
        if cond:
            cond = EXPR.sub(lambda m: m.group(1), cond)
            lines.append("if [ %s = true ]; then" % expr(cond))
        env = " ".join("%s=%s" % (k, value(v)) for k, v in (step.get("env") or {}).items())
        lines.append("GITHUB_OUTPUT=\"$STEPS/%s\" %s bash --noprofile --norc -eo pipefail -c %s"
                     " || exit $?" % (sid, ("env " + env) if env else "", shlex.quote(step["run"])))
        if cond:
            lines.append("fi")
    lines.append('rm -rf "$STEPS"')
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) < 3 or argv[0] not in ("check", "info", "shell", "script", "action") \
            or argv[1] not in PROVIDERS:
        sys.stderr.write(__doc__)
        return 64
    cmd, provider, path = argv[:3]
    rest = argv[3:]
    if cmd == "action":
        # pipeline.py action github ACTION.yml [--input NAME=VALUE]...
        inputs = dict(rest[i + 1].partition("=")[::2] for i in range(0, len(rest) - 1, 2)
                      if rest[i] == "--input")
        try:
            with open(path) as f:
                sys.stdout.write(action_driver(yaml.safe_load(f), inputs))
        except (OSError, yaml.YAMLError, Problem) as e:
            print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
            return 1
        return 0
    try:
        doc = load(provider, path)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
        return 1
    problems = []
    if cmd == "check" and rest:
        problems = validate(doc, rest[0])
        if provider == "circleci":
            # The orb's source is a config of its own: the same schema.
            import os
            orb = os.path.join(os.path.dirname(path), "orb.yml")
            try:
                problems += ["orb.yml: " + p for p in validate(load(provider, orb), rest[0])]
            except (OSError, yaml.YAMLError) as e:
                problems.append("orb.yml: %s" % e)
    if cmd == "check" and provider == "buildkite" and isinstance(doc, dict):
        try:
            problems += bk_plugin_config(doc, path)
        except (OSError, yaml.YAMLError, KeyError, Problem) as e:
            problems.append("the ciq plugin: %s" % e)
    try:
        model = model_of(provider, doc, path)
    except (Problem, KeyError, TypeError, AttributeError, StopIteration, OSError) as e:
        problems.append("%s: %s" % (type(e).__name__, e) if not isinstance(e, Problem) else str(e))
        model = None
    if cmd == "check" and model:
        for label, blocks, mode in all_shell(model):
            for b in blocks:
                problems.extend(shape_problems(label, b, mode))
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
            for label, blocks, mode in all_shell(model):
                if not blocks:
                    continue
                name = "%s/%s.sh" % (rest[0], label.replace(" ", "-"))
                with open(name, "w") as f:
                    f.write("#!/bin/sh\n" + "\n".join(blocks) + "\n")
                print(name)
        else:
            need(rest and rest[0] in ("worker", "report"), "script needs worker or report")
            role, index, secrets, append, i = rest[0], 0, {}, None, 1
            while i < len(rest):
                need(i + 1 < len(rest), "%s needs a value" % rest[i])
                if rest[i] == "--index":
                    index = int(rest[i + 1])
                elif rest[i] == "--secret":
                    k, _, v = rest[i + 1].partition("=")
                    secrets[k] = v
                elif rest[i] == "--append":
                    append = rest[i + 1]
                else:
                    raise Problem("unknown option %s" % rest[i])
                i += 2
            sys.stdout.write(script(provider, model, role, index, secrets, append))
    except Problem as e:
        print("%s: %s: %s" % (PROG, path, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
