//! `smedx`: the command-line interface. A thin layer: parse arguments, load the knowledge base,
//! call the engine, print text or JSON.

/// `print!` that ends the process quietly when stdout is closed (e.g. piped into `head`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(&format!($($arg)*))
    };
}

/// `println!` with the same behaviour as [`out!`].
macro_rules! outln {
    () => {
        $crate::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}

/// Writes to stdout; a closed pipe ends the program with success instead of a panic.
pub fn write_stdout(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

// A fast allocator: the engine allocates many small strings per request (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod assess_cmds;
mod commands;
mod ops_cmds;
mod provider_demo;
mod regional_cmds;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use smedx_core::Lang;

#[derive(Parser)]
#[command(
    name = "smedx",
    version,
    about = "smedx: the SME digital-transformation navigator",
    long_about = "smedx tells a small or medium manufacturer which digital scenarios to build, in what order and why, \
from the model of the 2023 SME digital-transformation research report (CAICT / AII) and the national standards \
it relies on (size classes: 统计上大中小微型企业划分办法（2017）; industry codes: GB/T 4754-2017).\n\n\
Bad input (a malformed profile, an unknown id, an invalid knowledge-base folder) exits with code 2."
)]
struct Cli {
    /// Load the knowledge base from this folder instead of the built-in one
    /// (`smedx kb export DIR` writes the built-in files as a starting point).
    #[arg(long, global = true, value_name = "DIR", env = "SMEDX_KB")]
    kb: Option<PathBuf>,
    /// Language of the output text.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "zh",
        env = "SMEDX_LANG"
    )]
    lang: LangArg,
    /// Print JSON for machines instead of text for people.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Copy, Clone, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Inspect and validate the knowledge base.
    Kb {
        #[command(subcommand)]
        cmd: KbCmd,
    },
    /// Size class, sub-sector and group of an enterprise from its industry code and figures.
    ///
    /// Any GB/T 4754-2017 code is accepted (e.g. C3670, 3670, 367, C36, F51 wholesale, F52 retail,
    /// E47 construction, I65 software). Money is in yuan.
    Classify {
        /// GB/T 4754-2017 code (e.g. C3311) or a sub-sector id (e.g. metal).
        #[arg(long)]
        industry: String,
        /// Employees (persons).
        #[arg(long)]
        employees: Option<f64>,
        /// Annual operating revenue in yuan.
        #[arg(long)]
        revenue: Option<f64>,
        /// Total assets in yuan (only some industries' size rules use it).
        #[arg(long)]
        assets: Option<f64>,
    },
    /// Full diagnosis: classification, paths, digital level and gap (with answers), ranked
    /// scenarios with reasons, staged roadmap and peer cases.
    Assess {
        /// The enterprise profile (TOML or JSON).
        profile: PathBuf,
        /// Answers to the digital-level questionnaire (TOML or JSON; see `smedx questionnaire`).
        #[arg(long)]
        answers: Option<PathBuf>,
        /// How many recommendations to show.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Print the digital-level questionnaire (MIIT 中小企业数字化水平评测指标, 2024 edition,
    /// 工信厅企业〔2024〕56号, manufacturing). The scored part and the 16 scenarios were checked
    /// against two transcriptions of the official online system; the overall level rule comes from
    /// one third-party copy; the official PDF was not checked. `--json` prints it with provenance notes.
    Questionnaire,
    /// Evaluate the recommender on the report's cases.
    Eval {
        #[command(subcommand)]
        cmd: EvalCmd,
    },
    /// Work with enterprise profiles (TOML or JSON; format in README).
    Profile {
        #[command(subcommand)]
        cmd: ProfileCmd,
    },
    /// Run the web application: accounts, self-assessment wizard, results, printable report and
    /// the JSON API (`/api/v1`, OpenAPI at `/api/v1/openapi.json`). Data lives in an embedded
    /// SQLite database in the data directory; migrations run at start-up.
    ///
    /// With no administrator yet, prints a one-time setup link; or pass `--admin-email` with the
    /// password in the environment variable SMEDX_ADMIN_PASSWORD. There is no default password.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "SMEDX_LISTEN")]
        listen: std::net::SocketAddr,
        /// Directory for the database (smedx.sqlite); created when missing.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// Database URL: postgres://user@host/db for PostgreSQL, or sqlite:FILE; by default
        /// an embedded SQLite database `smedx.sqlite` in the data directory.
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// Create this administrator (password from SMEDX_ADMIN_PASSWORD) if it does not exist.
        #[arg(long, env = "SMEDX_ADMIN_EMAIL")]
        admin_email: Option<String>,
        /// Always mark cookies Secure (set this when users reach the server over HTTPS; requests
        /// with `X-Forwarded-Proto: https` get Secure cookies anyway).
        #[arg(long)]
        secure_cookies: bool,
        /// Log format on stderr: `text` for people, `json` (one object per line) for log
        /// collectors. Every line of a request carries its id (`x-request-id`).
        #[arg(long, value_enum, default_value = "text", env = "SMEDX_LOG_FORMAT")]
        log_format: LogFormat,
        /// Dashboards: groups of fewer than this many enterprises are suppressed for cluster
        /// users and in exports marked public (1 shows everything).
        #[arg(long, default_value_t = 5, env = "SMEDX_SUPPRESS_K",
              value_parser = clap::value_parser!(i64).range(1..=1000))]
        suppress_k: i64,
    },
    /// Back up the SQLite database while the server runs: a consistent snapshot (SQLite's
    /// `VACUUM INTO`), written to FILE.tmp, checked, then renamed to FILE.
    ///
    /// For PostgreSQL (`--database postgres://…`) prints the pg_dump command to use instead and
    /// exits with code 2 (nothing written). Bad input (no database, FILE exists) exits with 2.
    Backup {
        /// The data directory of `smedx serve`.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// The database URL, as for `smedx serve` (default: smedx.sqlite in the data directory).
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// The backup file to write.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE (and a FILE.tmp left by an interrupted backup) if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the SQLite database with a backup. Stop the server first: a database in use is
    /// refused. The backup is checked (integrity, a smedx database this version can open); the
    /// previous database is kept as smedx.sqlite.before-restore-<UTC time>.
    ///
    /// For PostgreSQL prints the pg_restore command to use instead and exits with code 2.
    Restore {
        /// The data directory of `smedx serve`.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// The database URL, as for `smedx serve` (default: smedx.sqlite in the data directory).
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// The backup file (made by `smedx backup`).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Restore even when the database seems in use or cannot be opened (a running server
        /// does not survive this intact: restart it at once).
        #[arg(long)]
        force: bool,
    },
    /// The regional dashboards as a report: enterprises in scope, participation, levels overall
    /// and by sub-sector and size, scores, the 16 indicator scenarios, recommended scenarios,
    /// pain-point words, paths, obstacles by size and (with a campaign or --target) the target
    /// tracker. Groups of fewer than k enterprises are suppressed (shown as `*`, or as
    /// `{"suppressed": true}` with --json): reports leave the machine, so k is 5 unless given.
    Report {
        /// The data directory of `smedx serve`.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// The database URL, as for `smedx serve` (default: smedx.sqlite in the data directory).
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// A region: a six-digit GB/T 2260 code (320500 = Suzhou and its districts) or its first
        /// 2 or 4 digits.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// An industrial cluster id.
        #[arg(long, value_name = "ID")]
        cluster: Option<String>,
        /// A sub-sector (metal, textile …) or group (equipment_mfg …) id; see `smedx kb list sectors`.
        #[arg(long, value_name = "ID")]
        sector: Option<String>,
        /// A size class.
        #[arg(long, value_enum)]
        size: Option<regional_cmds::SizeArg>,
        /// The members of one campaign.
        #[arg(long, value_name = "ID")]
        campaign: Option<i64>,
        /// Latest assessments completed from this month on (YYYY-MM).
        #[arg(long, value_name = "YYYY-MM")]
        from: Option<String>,
        /// … up to this month (YYYY-MM).
        #[arg(long, value_name = "YYYY-MM")]
        to: Option<String>,
        /// Target level for the target tracker (default: the campaign's).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
        target: Option<u8>,
        /// Smallest group shown; `--k 1` shows every figure (for an operator who needs them).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..))]
        k: i64,
    },
    /// Demonstration data.
    Demo {
        #[command(subcommand)]
        cmd: DemoCmd,
    },
    /// Imports enterprises and their answers from a CSV or XLSX file: the whole file is checked
    /// first and stored in one transaction, or nothing is stored and every problem is listed by
    /// row on stderr (exit code 2). `--template csv|xlsx` writes the template to stdout instead.
    Import {
        /// The .csv or .xlsx file.
        #[arg(required_unless_present = "template")]
        file: Option<PathBuf>,
        /// Write the import template (CSV: the first line is the header) to stdout, in --lang.
        #[arg(long, value_enum, conflicts_with_all = ["file", "region", "create_clusters"])]
        template: Option<regional_cmds::TemplateFormat>,
        /// The data directory of `smedx serve`.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// The database URL, as for `smedx serve`.
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// Refuse rows outside this region (a six-digit code), as an authority's import would.
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// Create the clusters the file names that do not exist yet (named by their id, in the
        /// city of their first enterprise); without it an unknown cluster rejects the file.
        #[arg(long)]
        create_clusters: bool,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// Fills a database with realistic synthetic enterprises and completed assessments (sector
    /// and size mix of a Jiangsu manufacturing region, answers consistent with the level);
    /// progress on stderr.
    Generate {
        /// How many enterprises.
        #[arg(long)]
        enterprises: u64,
        /// The same seed gives the same enterprises.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The data directory of `smedx serve`.
        #[arg(long, default_value = "./smedx-data", env = "SMEDX_DATA_DIR")]
        data_dir: PathBuf,
        /// The database URL, as for `smedx serve`.
        #[arg(long, env = "SMEDX_DATABASE_URL")]
        database: Option<String>,
        /// Write the enterprises to this CSV file in the import format (headers in --lang)
        /// instead of storing them, e.g. to try `smedx import` or a spreadsheet program.
        #[arg(long, value_name = "FILE.csv", conflicts_with = "database")]
        out: Option<PathBuf>,
        /// Also create this many approved solution providers with products (accounts that
        /// cannot log in), so the supply–demand view has supply to compare.
        #[arg(long, default_value_t = 0, conflicts_with = "out")]
        providers: u64,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum KbCmd {
    /// Validate every file and print a summary (counts per kind).
    Check,
    /// List the entries of one kind.
    List {
        #[arg(value_enum)]
        kind: commands::ListKind,
    },
    /// Show one entry in full (any id: scenario, domain, chain, sector, group, case, path, mode, obstacle).
    Show { id: String },
    /// Write the built-in knowledge-base files into DIR, to edit and load with --kb DIR.
    Export { dir: PathBuf },
}

#[derive(Subcommand)]
enum EvalCmd {
    /// Hit@k and recall@k of the recommender on every report case (leave-one-out), against a
    /// random ranking and "always the most common scenarios".
    Cases,
    /// The same metrics on situations written independently of the knowledge base
    /// (default: the built-in `eval/holdout.toml`).
    Holdout {
        /// A holdout file in the same format.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ProfileCmd {
    /// Validate a profile and print its classification and transformation paths.
    Check { file: PathBuf },
}

/// Errors the CLI reports: bad input exits with 2, anything else with 1.
pub enum CliError {
    BadInput(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Failed(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = commands::Ctx {
        kb_dir: cli.kb.clone(),
        lang: cli.lang.into(),
        json: cli.json,
    };
    let result = match cli.cmd {
        Cmd::Kb { cmd } => match cmd {
            KbCmd::Check => commands::kb_check(&ctx),
            KbCmd::List { kind } => commands::kb_list(&ctx, kind),
            KbCmd::Show { id } => commands::kb_show(&ctx, &id),
            KbCmd::Export { dir } => commands::kb_export(&ctx, &dir),
        },
        Cmd::Classify {
            industry,
            employees,
            revenue,
            assets,
        } => commands::classify(&ctx, &industry, employees, revenue, assets),
        Cmd::Assess {
            profile,
            answers,
            top,
        } => assess_cmds::assess(&ctx, &profile, answers.as_deref(), top),
        Cmd::Questionnaire => assess_cmds::questionnaire(&ctx),
        Cmd::Eval { cmd } => match cmd {
            EvalCmd::Cases => assess_cmds::eval_cases(&ctx),
            EvalCmd::Holdout { file } => assess_cmds::eval_holdout(&ctx, file.as_deref()),
        },
        Cmd::Profile { cmd } => match cmd {
            ProfileCmd::Check { file } => commands::profile_check(&ctx, &file),
        },
        Cmd::Serve {
            listen,
            data_dir,
            database,
            admin_email,
            secure_cookies,
            log_format,
            suppress_k,
        } => serve(
            &ctx,
            listen,
            &data_dir,
            database.as_deref(),
            admin_email.as_deref(),
            secure_cookies,
            log_format,
            suppress_k,
        ),
        Cmd::Backup {
            data_dir,
            database,
            to,
            force,
        } => ops_cmds::backup(&ctx, &data_dir, database.as_deref(), &to, force),
        Cmd::Restore {
            data_dir,
            database,
            from,
            force,
        } => ops_cmds::restore(&ctx, &data_dir, database.as_deref(), &from, force),
        Cmd::Report {
            data_dir,
            database,
            region,
            cluster,
            sector,
            size,
            campaign,
            from,
            to,
            target,
            k,
        } => regional_cmds::report(
            &ctx,
            &regional_cmds::ReportArgs {
                data_dir: &data_dir,
                database: database.as_deref(),
                region: region.as_deref(),
                cluster: cluster.as_deref(),
                sector: sector.as_deref(),
                size,
                campaign,
                from: from.as_deref(),
                to: to.as_deref(),
                target,
                k,
            },
        ),
        Cmd::Demo { cmd } => match cmd {
            DemoCmd::Generate {
                enterprises,
                seed,
                out: Some(out),
                ..
            } => regional_cmds::demo_csv(&ctx, enterprises, seed, &out),
            DemoCmd::Generate {
                enterprises,
                seed,
                data_dir,
                database,
                out: None,
                providers,
            } => regional_cmds::demo_generate(
                &ctx,
                enterprises,
                seed,
                &data_dir,
                database.as_deref(),
            )
            .and_then(|()| match providers {
                0 => Ok(()),
                n => provider_demo::run(&ctx, n, seed, &data_dir, database.as_deref()),
            }),
        },
        Cmd::Import {
            file,
            template,
            data_dir,
            database,
            region,
            create_clusters,
        } => match (template, file) {
            (Some(format), _) => regional_cmds::template(&ctx, format),
            (None, Some(file)) => regional_cmds::import(
                &ctx,
                &file,
                &data_dir,
                database.as_deref(),
                region.as_deref(),
                create_clusters,
            ),
            (None, None) => Err(CliError::BadInput(ctx.t(
                "请给出要导入的文件，或用 --template csv|xlsx 取得模板",
                "give the file to import, or --template csv|xlsx for the template",
            ))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BadInput(msg)) => {
            eprintln!("{}", msg.trim_end());
            ExitCode::from(2)
        }
        Err(CliError::Failed(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `smedx serve`: open the database, build the engine once, print the URL, serve until Ctrl-C.
#[allow(clippy::too_many_arguments)]
fn serve(
    ctx: &commands::Ctx,
    listen: std::net::SocketAddr,
    data_dir: &std::path::Path,
    database: Option<&str>,
    admin_email: Option<&str>,
    secure_cookies: bool,
    log_format: LogFormat,
    suppress_k: i64,
) -> Result<(), CliError> {
    use anyhow::Context;
    use std::sync::Arc;

    let filter = tracing_subscriber::EnvFilter::try_from_env("SMEDX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When stderr cannot be written (its file is on a full disk) the subscriber would report
        // that with eprintln!, which panics and drops the request's connection: lose the line
        // instead, so that the user still gets the page saying the database is unavailable.
        .log_internal_errors(false);
    let _ = match log_format {
        LogFormat::Text => logs.try_init(),
        // One JSON object per line: the event's fields, and the request span (id, method, route).
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    let kb = ctx.load_kb()?;
    let engine = Arc::new(smedx_core::recommend::Engine::new(kb));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let store = smedx_store::open_url(database.unwrap_or(""), data_dir)
            .await
            .map_err(|e| CliError::BadInput(format!("{}: {e}", data_dir.display())))?;
        let state =
            smedx_web::AppState::new(engine, store, secure_cookies).with_suppress_k(suppress_k);
        let password = std::env::var("SMEDX_ADMIN_PASSWORD").ok();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let base = format!("http://{addr}");
        match smedx_web::ensure_admin(&state, admin_email, password.as_deref()).await {
            Ok(smedx_web::AdminSetup::SetupToken(t)) => println!(
                "{}\n  {base}/setup/{t}",
                ctx.t(
                    "还没有管理员。请在 24 小时内打开这个一次性链接创建管理员：",
                    "No administrator yet. Open this one-time link within 24 hours to create one:"
                )
            ),
            Ok(smedx_web::AdminSetup::Created(e)) => {
                println!("{}{e}", ctx.t("已创建管理员：", "administrator created: "))
            }
            Ok(smedx_web::AdminSetup::Exists) => {}
            Err(e @ smedx_web::SetupError::Store(_)) => {
                return Err(CliError::Failed(anyhow::anyhow!(e)));
            }
            Err(e) => return Err(CliError::BadInput(e.to_string())),
        }
        println!(
            "{} {base}/  ({} {})",
            ctx.t("smedx 已启动：", "smedx is running at"),
            ctx.t("数据目录", "data in"),
            data_dir.display()
        );
        smedx_web::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
        println!("{}", ctx.t("已停止。", "stopped."));
        Ok(())
    })
}
