"""The `loa` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.domain import Platform
from bot.runtime import configure_logging, run

if TYPE_CHECKING:
    from bot.storage.models import RoleName

EXAMPLES = "examples"  # in a content folder: plans and campaigns of real wards, to copy from


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "action"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"loa: configuration error: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return int(args.action(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loa", description=__doc__)
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser(
        "run", help="start bot, scheduler, sender and web (sandbox mode without tokens)"
    )
    run.set_defaults(action=_run)

    sandbox = sub.add_parser("sandbox", help="the sandbox alone (fake Telegram + control API + UI)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.set_defaults(action=_sandbox)

    db = sub.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    db.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(
        action=_db_upgrade
    )

    content = sub.add_parser("content", help="plans, campaigns and templates")
    content_actions = content.add_subparsers(metavar="ACTION")
    check = content_actions.add_parser(
        "check", help='validate; print "file:line: message" for each problem, exit 1 if any'
    )
    check.add_argument(
        "path", nargs="?", type=Path, help="a content folder (default: LOA_CONTENT_DIR)"
    )
    check.set_defaults(action=_content_check)
    preview = content_actions.add_parser(
        "preview", help="print a post as a platform shows it to an audience"
    )
    preview.add_argument("post", help="a post id from content/campaigns")
    preview.add_argument(
        "--audience", required=True, help="parents, teachers, … or phu_huynh, giao_vien, can_bo, …"
    )
    preview.add_argument(
        "--platform", choices=[p.value for p in Platform], default=Platform.TELEGRAM.value
    )
    preview.add_argument("--content", type=Path, help="a content folder (default: LOA_CONTENT_DIR)")
    preview.set_defaults(action=_content_preview)

    plan = sub.add_parser("plan", help="communication plans (kế hoạch)")
    imp = plan.add_subparsers(metavar="ACTION").add_parser(
        "import", help="draft a plan YAML from a plan document (.md, .txt) for review"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("-o", "--out", type=Path, help="write the draft here (default: stdout)")
    imp.set_defaults(action=_plan_import)

    feedback = sub.add_parser("feedback", help="classify free-text feedback (category, sentiment)")
    feedback_actions = feedback.add_subparsers(metavar="ACTION")
    classify = feedback_actions.add_parser(
        "classify",
        help='one text a line in, one JSON a line out: {"text", "category", "sentiment"}',
    )
    classify.add_argument("file", nargs="?", default="-", help="a UTF-8 text file, or - (stdin)")
    classify.set_defaults(action=_feedback_classify)
    evaluate = feedback_actions.add_parser(
        "evaluate", help="held-out precision, recall, macro-F1 and the diacritics gap"
    )
    evaluate.add_argument("--method", choices=("model", "rules"), default="model")
    evaluate.add_argument(
        "--compare",
        action="store_true",
        help="cross-validate every candidate method instead (the table in docs/feedback.md)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(action=_feedback_evaluate)

    invite = sub.add_parser(
        "invite", help="print an invite code and its link: how an operator brings in an official"
    )
    invite.add_argument(
        "--role",
        required=True,
        type=_role_word,
        help="a role as in the chat's /moi: canbo, quanly, giaovien, phuhuynh, nguoidan "
        "(or official, school_admin, teacher, parent, community)",
    )
    invite.add_argument("--unit", required=True, help="a unit code from units.yaml")
    invite.add_argument("--uses", type=int, help="how many people may join with it")
    invite.add_argument("--days", type=int, default=14, help="days it stays valid (default 14)")
    invite.set_defaults(action=_invite)

    report = sub.add_parser("report", help="reach and KPI figures of a period")
    report.add_argument("--period", required=True, help="2026-Q4, 2026-H1, 2026 or A..B dates")
    report.add_argument("--unit", help="a unit code: it and the units below it (default: all)")
    report.add_argument("--plan", help="a plan id: its campaigns and targets (default: all)")
    report.add_argument("--format", required=True, choices=("docx", "xlsx", "json"))
    report.add_argument(
        "-o", "--out", type=Path, help="write here (default: stdout; docx/xlsx: required)"
    )
    report.add_argument(
        "--parent-body",
        help="docx header's first line, e.g. 'UBND TỈNH BẮC GIANG' (default: a blank)",
    )
    report.set_defaults(action=_report)

    bench = sub.add_parser("bench", help="benchmarks; each prints one JSON object")
    kinds = bench.add_subparsers(metavar="BENCH")
    broadcast = kinds.add_parser("broadcast", help="send one item to N chats through a sandbox")
    broadcast.add_argument("--chats", type=int, required=True)
    broadcast.add_argument(
        "--platform",
        choices=("telegram", "zalo_oa"),
        default="telegram",
        help="zalo_oa: N followers of the sandbox's OA (default rate LOA_ZALO_OA_RATE)",
    )
    limit = broadcast.add_mutually_exclusive_group()
    limit.add_argument("--rate", type=float, help="global messages/s, engine and sandbox alike")
    limit.add_argument("--no-limit", action="store_true", help="no rate limit anywhere")
    broadcast.add_argument("--api-url", help="a running sandbox (default: start one)")
    broadcast.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    broadcast.add_argument("--concurrency", type=int, default=None)
    broadcast.add_argument("--json", action="store_true", help="print JSON (the only format)")
    broadcast.set_defaults(action=_bench_broadcast)
    inbound = kinds.add_parser(
        "inbound", help="POST N sandbox-made updates to the webhook of `loa run`, time them"
    )
    inbound.add_argument("--updates", type=int, required=True)
    inbound.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    inbound.add_argument("--concurrency", type=int, default=64, help="connections (default 64)")
    inbound.add_argument(
        "--rate", type=float, help="updates/s offered (default: each as soon as one is answered)"
    )
    inbound.add_argument("--json", action="store_true", help="print JSON (the only format)")
    inbound.set_defaults(action=_bench_inbound)

    report_bench = kinds.add_parser("report", help="one quarterly report over N interactions")
    report_bench.add_argument("--events", type=int, required=True)
    report_bench.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    report_bench.add_argument("--json", action="store_true", help="print JSON (the only format)")
    report_bench.add_argument("--docx", type=Path, help="also file the timed report as DOCX here")
    report_bench.set_defaults(action=_bench_report)
    dash_bench = kinds.add_parser(
        "dashboard", help="the dashboard's overview and school pages over N interactions"
    )
    dash_bench.add_argument("--events", type=int, default=1_000_000, help="default 1000000")
    dash_bench.add_argument("--rounds", type=int, default=40, help="requests per page (40)")
    dash_bench.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    dash_bench.add_argument("--json", action="store_true", help="print JSON (the only format)")
    dash_bench.set_defaults(action=_bench_dashboard)
    return parser


def _run(_: argparse.Namespace, settings: Settings) -> int:
    from bot.app import App, StartupError

    try:
        run(App(settings).run_until_signal())
    except StartupError as e:
        print(f"loa: cannot start: {e}", file=sys.stderr)
        return 1
    return 0


def _sandbox(args: argparse.Namespace, _: Settings) -> int:
    from bot.sandbox import serve

    run(serve(args.host, args.port))
    return 0


def _db_upgrade(_: argparse.Namespace, settings: Settings) -> int:
    from bot.app import StartupError, check_database
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade

    async def go() -> None:
        db = Database(settings.database_url)
        try:
            await check_database(db)
        finally:
            await db.dispose()
        await upgrade(settings.database_url)

    try:
        run(go())
    except StartupError as e:
        print(f"loa: {e}", file=sys.stderr)
        return 1
    print("database is at the newest schema")
    return 0


def _role_word(typed: str) -> RoleName:
    """The role a word names, with the words the chat's /moi takes."""
    from bot.services.invites import ROLE_WORDS, role_named

    role = role_named(typed)
    if role is None:
        words = ", ".join(sorted(ROLE_WORDS))
        raise argparse.ArgumentTypeError(f"unknown role {typed!r}; one of: {words}")
    return role


def _invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import StartupError, check_database, telegram_adapter
    from bot.services import invites
    from bot.services.units import ids_by_code, sync_units
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from content.units import UNITS_FILE, load_units
    from content.yaml_files import ContentFileError

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            await check_database(db)
            await upgrade(settings.database_url)
            if (settings.content_dir / UNITS_FILE).is_file():
                await sync_units(db, load_units(settings.content_dir / UNITS_FILE))
            async with db.session() as session:
                unit = (await ids_by_code(session, [args.unit])).get(args.unit)
                if unit is None:
                    print(f"loa: no active unit {args.unit!r} (see {UNITS_FILE})", file=sys.stderr)
                    return 1
                invite, code = await invites.create(
                    session, args.role, unit, None, uses=args.uses, days=args.days
                )
                await session.commit()
        finally:
            await db.dispose()
        link = "none: without LOA_TELEGRAM_TOKEN the person sends the code to the bot"
        if settings.telegram_token is not None:
            telegram = telegram_adapter(settings, None)
            await telegram.start()
            link = str(telegram.start_link(code))
            await telegram.stop()
        expires = invite.expires_at.astimezone(settings.tz)
        print(f"code:    {code}\nlink:    {link}")
        print(f"role:    {args.role.value} of {args.unit}, {invite.max_uses} use(s)")
        print(f"expires: {expires:%Y-%m-%d %H:%M} ({settings.timezone})")
        return 0

    try:
        return run(go())
    except (StartupError, ContentFileError, ValueError) as e:
        print(f"loa: {e}", file=sys.stderr)
        return 1


def _content_check(args: argparse.Namespace, settings: Settings) -> int:
    from content.check import NotContent, check_content

    folder = args.path or settings.content_dir
    try:
        problems = check_content(folder)
        if (folder / EXAMPLES).is_dir():  # other wards' plans and campaigns, not loaded
            problems += check_content(folder / EXAMPLES)
    except NotContent as e:
        print(e, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{folder}: content is valid")
    return 1 if problems else 0


def _content_preview(args: argparse.Namespace, settings: Settings) -> int:
    from content.campaign.preview import PreviewError, preview

    try:
        print(
            preview(
                args.content or settings.content_dir,
                args.post,
                args.audience,
                Platform(args.platform),
            )
        )
    except PreviewError as e:
        print(f"loa: {e}", file=sys.stderr)
        return 1
    return 0


def _plan_import(args: argparse.Namespace, _: Settings) -> int:
    from content.importer import UnsupportedDocument, import_plan

    try:
        draft = import_plan(args.file)
    except (OSError, UnsupportedDocument) as e:
        print(f"loa: {args.file}: {e}", file=sys.stderr)
        return 1
    if args.out:
        args.out.write_text(draft, encoding="utf-8")
        print(f"{args.out}: draft written; review it, then run `loa content check`")
    else:
        sys.stdout.write(draft)
    return 0


def _feedback_classify(args: argparse.Namespace, _: Settings) -> int:
    from bot.services.classify import classify

    def lines() -> Iterator[str]:
        if args.file == "-":
            yield from sys.stdin
            return
        with Path(args.file).open(encoding="utf-8") as f:
            yield from f

    try:
        for line in lines():
            text = line.rstrip("\r\n")
            if text.strip():
                label = classify(text)
                out = {"text": text, "category": label.category, "sentiment": label.sentiment}
                print(json.dumps(out, ensure_ascii=False), flush=True)
    except (OSError, UnicodeDecodeError) as e:
        print(f"loa: {args.file}: {e}", file=sys.stderr)
        return 1
    return 0


def _feedback_evaluate(args: argparse.Namespace, _: Settings) -> int:
    from bot.services.classify.evaluate import compare, evaluate, render, render_comparison

    if args.compare:
        rows = compare()
        print(
            json.dumps(rows, ensure_ascii=False, indent=2) if args.json else render_comparison(rows)
        )
        return 0
    report = evaluate(args.method)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import StartupError, check_database
    from bot.reports.files import Filed, make_report, write_report
    from bot.reports.period import PeriodError, parse_period
    from bot.reports.report import ReportError, load_content
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from content.templates import TemplateError

    if args.format != "json" and args.out is None:
        print(f"loa: report --format {args.format} needs -o FILE", file=sys.stderr)
        return 1

    async def go() -> Filed:
        db = Database(settings.database_url)
        try:
            await check_database(db)
            await upgrade(settings.database_url)
            period = parse_period(args.period, settings.tz)
            content = load_content(settings.content_dir)
            return await make_report(
                db, content, period, unit=args.unit, plan=args.plan, parent_body=args.parent_body
            )
        finally:
            await db.dispose()

    try:
        filed = run(go())
        if args.out is not None:
            write_report(filed, args.format, args.out, content_dir=settings.content_dir,
                         tz=settings.tz)  # fmt: skip
    except (StartupError, PeriodError, ReportError, TemplateError) as e:
        print(f"loa: {e}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(json.dumps(filed.report, ensure_ascii=False, indent=2) + "\n")
    return 0


def _bench_broadcast(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench import broadcast

    if args.platform == "zalo_oa":
        return _bench_broadcast_zalo_oa(args, settings)
    result = run(
        broadcast(
            chats=args.chats,
            rate=None if args.no_limit else args.rate,
            api_url=args.api_url,
            db_url=args.db,
            concurrency=args.concurrency or settings.sender_concurrency,
        )
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


def _bench_broadcast_zalo_oa(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench_zalo_oa import broadcast

    if args.no_limit:
        raise SystemExit("--no-limit: Zalo OA has a rate; give --rate or use LOA_ZALO_OA_RATE")
    result = run(
        broadcast(
            chats=args.chats,
            rate=args.rate or settings.zalo_oa_rate,
            api_url=args.api_url,
            db_url=args.db,
            concurrency=args.concurrency or settings.sender_concurrency,
        )
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 and result["quota_errors"] == 0 else 1


def _bench_inbound(args: argparse.Namespace, _: Settings) -> int:
    from bot.bench_inbound import inbound

    result = run(
        inbound(updates=args.updates, db_url=args.db, concurrency=args.concurrency, rate=args.rate)
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["not_acknowledged"] == 0 and result["handled"] == args.updates else 1


def _bench_report(args: argparse.Namespace, _: Settings) -> int:
    from bot.bench_report import report

    result = run(report(events=args.events, db_url=args.db, docx=args.docx))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


def _bench_dashboard(args: argparse.Namespace, _: Settings) -> int:
    from bot.bench_dashboard import dashboard

    result = run(dashboard(events=args.events, db_url=args.db, rounds=args.rounds))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
