"""Run the `run:` steps of action.yml the way a GitHub runner runs a composite action.

    python run_action.py ACTION_YML CONTEXT_JSON

CONTEXT_JSON holds `inputs` (overriding the defaults), `github` (action_ref,
action_repository, action_path, repository) and `runner` (tool_cache, os, arch). Each step's
`env:` and `working-directory:` are expanded (`${{ inputs.x }}`, `${{ github.x }}`,
`${{ runner.x }}`, `${{ steps.ID.outputs.x }}`), its script runs with
`bash --noprofile --norc -eo pipefail` (the runner's `shell: bash`) in the caller's environment
plus GITHUB_OUTPUT and GITHUB_PATH, and its outputs are read back. `uses:` steps (the cache)
are reported and skipped: there is no GitHub cache service here. Steps stop at the first
failure, like a job. Prints one JSON object: the steps run, each step's outputs and exit
code, and the action's outputs.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def lookup(path, ctx):
    value = ctx
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return value


def expand(text, ctx):
    def one(match):
        expr = match.group(1)
        if not re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
            raise SystemExit(f"run_action: unsupported expression `{expr}`")
        return str(lookup(expr, ctx))

    return EXPR.sub(one, str(text))


def condition(expr, ctx):
    # The only form action.yml uses: `inputs.NAME != ''`.
    m = re.fullmatch(r"\s*([\w.-]+)\s*!=\s*''\s*", expr)
    if not m:
        raise SystemExit(f"run_action: unsupported condition `{expr}`")
    return lookup(m.group(1), ctx) != ""


def main():
    action = yaml.safe_load(open(sys.argv[1]))
    given = json.loads(sys.argv[2])
    inputs = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
    inputs.update(given.get("inputs", {}))
    ctx = {"inputs": inputs, "github": given["github"], "runner": given["runner"], "steps": {}}
    report = {"steps": [], "outputs": {}, "failed": None}
    workdir = tempfile.mkdtemp(prefix="run-action-")
    for n, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", step.get("id", f"step {n}"))
        if "if" in step and not condition(step["if"], ctx):
            report["steps"].append({"name": name, "skipped": "condition"})
            continue
        if "uses" in step:
            report["steps"].append({"name": name, "skipped": f"uses: {step['uses']}"})
            continue
        out_file = os.path.join(workdir, f"output-{n}")
        path_file = os.path.join(workdir, f"path-{n}")
        open(out_file, "w").close()
        open(path_file, "w").close()
        env = dict(os.environ)
        env.update({k: expand(v, ctx) for k, v in step.get("env", {}).items()})
        env["GITHUB_OUTPUT"] = out_file
        env["GITHUB_PATH"] = path_file
        cwd = expand(step.get("working-directory", "."), ctx)
        script = os.path.join(workdir, f"step-{n}.sh")
        with open(script, "w") as f:
            f.write(step["run"])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        outputs = {}
        for line in open(out_file):
            if "=" in line:
                key, _, value = line.rstrip("\n").partition("=")
                outputs[key] = value
        if "id" in step:
            ctx["steps"][step["id"]] = {"outputs": outputs}
        report["steps"].append(
            {
                "name": name,
                "exit": proc.returncode,
                "outputs": outputs,
                "stdout": proc.stdout[-4000:],
                "stderr": proc.stderr[-4000:],
                "path": open(path_file).read().split(),
            }
        )
        if proc.returncode != 0:
            report["failed"] = name
            break
    report["outputs"] = {
        k: expand(v.get("value", ""), ctx) for k, v in action.get("outputs", {}).items()
    }
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
