//! Classification of a profile: size class, sub-sector and group, product complexity and chain
//! position (given or inferred, with the reason), and the transformation paths that apply.

use serde::{Deserialize, Serialize};

use crate::industry::{self, OTHER_GROUP};
use crate::kb::{ChainPosition, Complexity, KnowledgeBase, SizeClass};
use crate::lang::{Lang, Localized};
use crate::profile::{self, IndustryInput, Profile};
use crate::size::{self, Measures, SizeError, SizeResult};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndustryInfo {
    /// Canonical code (`C3670`), or null when a sub-sector id was given.
    pub code: Option<String>,
    pub name: Option<Localized>,
}

/// Where an inferred value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Given,
    Sector,
    Group,
    Complexity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inferred<T> {
    pub value: T,
    pub basis: Basis,
    pub reason: Localized,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub industry: IndustryInfo,
    pub sector: Option<String>,
    pub group: String,
    pub size: SizeResult,
    pub complexity: Inferred<Complexity>,
    pub chain_position: Inferred<ChainPosition>,
    pub paths: Vec<PathMatch>,
}

impl Classification {
    pub fn size_class(&self) -> SizeClass {
        self.size.size_class
    }
}

/// One applicable transformation path with the sub-mode that fits and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathMatch {
    pub id: String,
    pub mode: String,
    pub primary: bool,
    pub strength: u8,
    pub reasons: Vec<PathReason>,
}

/// A reason for a path, checkable against the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathReason {
    SuppliesChainLeader,
    InCluster,
    UsesPlatform,
    Complexity { complexity: Complexity },
    Group { group: String },
    Size { size: SizeClass },
    AllFirms,
}

impl PathReason {
    pub fn text(&self, kb: &KnowledgeBase, lang: Lang) -> String {
        let l = match self {
            PathReason::SuppliesChainLeader => Localized::new(
                "为链主（龙头）企业配套供货，客户会带动数字化协同",
                "supplies a chain-leader customer, which pulls its suppliers into digital collaboration",
            ),
            PathReason::InCluster => Localized::new(
                "位于产业集群或园区，可共享园区的数字化设施与协作平台",
                "located in an industrial cluster or park that can share digital services",
            ),
            PathReason::UsesPlatform => Localized::new(
                "已在使用工业互联网平台",
                "already uses an industrial-internet platform",
            ),
            PathReason::Complexity { complexity } => match complexity {
                Complexity::High => Localized::new(
                    "产品复杂度高、靠近市场，转型主要靠企业自身驱动",
                    "high-complexity finished products near the market: the firm drives its own change",
                ),
                Complexity::Medium => Localized::new(
                    "生产功能部件，订单多来自一两家大客户，易被链主带动",
                    "functional parts with one or two big customers: a chain leader tends to drive change",
                ),
                Complexity::Low => Localized::new(
                    "从事基础加工，零散产能适合由平台统一组织接单",
                    "basic processing: scattered capacity fits orders organised by a platform",
                ),
            },
            PathReason::Group { group } => {
                let name = kb
                    .group(group)
                    .map(|g| g.name.get(lang).to_string())
                    .unwrap_or_else(|| group.clone());
                Localized::new(
                    format!("{name}行业的园区多共建安全、环保、能源等公共系统"),
                    format!("{name} parks often share safety, environmental and energy systems"),
                )
            }
            PathReason::Size { size } => match size {
                SizeClass::Micro | SizeClass::Small => Localized::new(
                    "小微企业宜从单点、标准化的轻量工具起步",
                    "micro and small firms do best with single-point, standard tools",
                ),
                _ => Localized::new(
                    "中型企业可开展跨流程应用（低代码、少量物联网和机器人）",
                    "medium firms can take on cross-process tools (low-code, some IoT and robots)",
                ),
            },
            PathReason::AllFirms => Localized::new(
                "所有路径最终都落到具体场景建设上，“小快轻准”产品适用于每一家中小企业",
                "every path ends in building concrete scenarios; small, fast, light, precise products fit every SME",
            ),
        };
        l.get(lang).to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassifyError {
    #[error(transparent)]
    Industry(#[from] industry::IndustryError),
    #[error(transparent)]
    Size(#[from] SizeError),
}

impl ClassifyError {
    pub fn localized(&self) -> Localized {
        match self {
            ClassifyError::Industry(e) => e.localized(),
            ClassifyError::Size(e) => e.localized(),
        }
    }
}

/// Sub-sector and group of an industry input.
pub fn placement(
    kb: &KnowledgeBase,
    ind: &IndustryInput,
) -> (Option<String>, String, IndustryInfo) {
    match ind {
        IndustryInput::Sector { sector } => {
            let group = kb
                .sector(sector)
                .map(|s| s.group.clone())
                .unwrap_or_else(|| OTHER_GROUP.to_string());
            let name = kb.sector(sector).map(|s| s.name.clone());
            (
                Some(sector.clone()),
                group,
                IndustryInfo { code: None, name },
            )
        }
        IndustryInput::Code { code } => {
            let p = industry::place(kb, code);
            (
                p.sector,
                p.group,
                IndustryInfo {
                    code: Some(code.canonical()),
                    name: p.name,
                },
            )
        }
    }
}

pub fn classify(kb: &KnowledgeBase, p: &Profile) -> Result<Classification, ClassifyError> {
    let ind = p.industry.as_ref().ok_or_else(|| {
        ClassifyError::Industry(industry::IndustryError::Malformed(String::new()))
    })?;
    let (sector, group, info) = placement(kb, ind);
    let cat = profile::category_of(kb, ind)?;
    let size = size::classify_size(cat, &Measures::from_yuan(p.employees, p.revenue, p.assets))?;
    let complexity = infer_complexity(kb, p.product_complexity, sector.as_deref(), &group);
    let chain_position = infer_position(kb, p.chain_position, sector.as_deref(), complexity.value);
    let paths = paths(p, &group, size.size_class, complexity.value);
    Ok(Classification {
        industry: info,
        sector,
        group,
        size,
        complexity,
        chain_position,
        paths,
    })
}

fn infer_complexity(
    kb: &KnowledgeBase,
    given: Option<Complexity>,
    sector: Option<&str>,
    group: &str,
) -> Inferred<Complexity> {
    if let Some(v) = given {
        return Inferred {
            value: v,
            basis: Basis::Given,
            reason: Localized::new("企业自述", "as stated in the profile"),
        };
    }
    if let Some(s) = sector.and_then(|s| kb.sector(s)) {
        return Inferred {
            value: s.typical_complexity,
            basis: Basis::Sector,
            reason: Localized::new(
                format!("{}企业的典型产品复杂度", s.name.zh),
                format!("typical for {} firms", s.name.en),
            ),
        };
    }
    // Raw materials and basic processing are low, parts makers medium, consumer goods reach the market.
    let value = match group {
        "raw_materials" => Complexity::Low,
        "consumer_goods" => Complexity::High,
        _ => Complexity::Medium,
    };
    let gname = kb
        .group(group)
        .map(|g| g.name.clone())
        .unwrap_or_else(|| Localized::new(group, group));
    Inferred {
        value,
        basis: Basis::Group,
        reason: Localized::new(
            format!("未填写，按“{}”大类的一般情况推断", gname.zh),
            format!("not given; inferred from the {} group", gname.en),
        ),
    }
}

fn infer_position(
    kb: &KnowledgeBase,
    given: Option<ChainPosition>,
    sector: Option<&str>,
    complexity: Complexity,
) -> Inferred<ChainPosition> {
    if let Some(v) = given {
        return Inferred {
            value: v,
            basis: Basis::Given,
            reason: Localized::new("企业自述", "as stated in the profile"),
        };
    }
    if let Some(s) = sector.and_then(|s| kb.sector(s)) {
        return Inferred {
            value: s.typical_position,
            basis: Basis::Sector,
            reason: Localized::new(
                format!("{}企业在产业链中的典型位置", s.name.zh),
                format!("typical place of {} firms in the chain", s.name.en),
            ),
        };
    }
    // Report ch. 4.4: basic processing sits upstream, parts midstream, finished goods downstream.
    let value = match complexity {
        Complexity::Low => ChainPosition::Upstream,
        Complexity::Medium => ChainPosition::Midstream,
        Complexity::High => ChainPosition::Downstream,
    };
    Inferred {
        value,
        basis: Basis::Complexity,
        reason: Localized::new(
            "未填写，按产品复杂度推断（基础加工在上游、零部件在中游、终端成品在下游）",
            "not given; inferred from product complexity (basic processing upstream, parts midstream, finished goods downstream)",
        ),
    }
}

/// The transformation paths that apply, strongest first (report ch. 3.1–3.5, 4.1).
pub fn paths(p: &Profile, group: &str, size: SizeClass, complexity: Complexity) -> Vec<PathMatch> {
    let mut out: Vec<PathMatch> = Vec::new();
    let mut add = |id: &str, mode: &str, strength: u8, reasons: Vec<PathReason>| {
        if let Some(existing) = out.iter_mut().find(|m| m.id == id) {
            if strength > existing.strength {
                existing.strength = strength;
                existing.mode = mode.to_string();
            }
            for r in reasons {
                if !existing.reasons.contains(&r) {
                    existing.reasons.push(r);
                }
            }
        } else {
            out.push(PathMatch {
                id: id.to_string(),
                mode: mode.to_string(),
                primary: false,
                strength,
                reasons,
            });
        }
    };

    // Chain-leader path: an explicit supply tie is strong; functional-parts makers are likely.
    if p.supplies_chain_leader == Some(true) {
        let mut r = vec![PathReason::SuppliesChainLeader];
        if complexity == Complexity::Medium {
            r.push(PathReason::Complexity { complexity });
        }
        add("chain", "chain.supplier", 3, r);
    } else if complexity == Complexity::Medium && p.supplies_chain_leader.is_none() {
        add(
            "chain",
            "chain.supplier",
            1,
            vec![PathReason::Complexity { complexity }],
        );
    }
    // Peer-driven chain transformation is the raw-materials pattern (e.g. steel mills networked by a group).
    if group == "raw_materials"
        && complexity == Complexity::Low
        && p.supplies_chain_leader != Some(true)
    {
        add(
            "chain",
            "chain.peer",
            1,
            vec![PathReason::Group {
                group: group.to_string(),
            }],
        );
    }
    // Cluster / park.
    if p.in_cluster == Some(true) {
        let mode = if group == "raw_materials" {
            "cluster.public"
        } else {
            "cluster.core"
        };
        let mut r = vec![PathReason::InCluster];
        if mode == "cluster.public" {
            r.push(PathReason::Group {
                group: group.to_string(),
            });
        }
        add("cluster", mode, 3, r);
    }
    // Platform: explicit use is strong; basic processing is a good fit.
    let platform_mode = if group == "consumer_goods" {
        "platform.vertical"
    } else {
        "platform.horizontal"
    };
    if p.uses_platform == Some(true) {
        let mut r = vec![PathReason::UsesPlatform];
        if complexity == Complexity::Low {
            r.push(PathReason::Complexity { complexity });
        }
        add("platform", platform_mode, 3, r);
    } else if complexity == Complexity::Low {
        add(
            "platform",
            platform_mode,
            2,
            vec![PathReason::Complexity { complexity }],
        );
    }
    // Lightweight products fit everyone; the mode follows size.
    let mode = match size {
        SizeClass::Micro | SizeClass::Small => "lightweight.micro_small",
        _ => "lightweight.medium",
    };
    let mut r = vec![PathReason::AllFirms, PathReason::Size { size }];
    if complexity == Complexity::High {
        r.insert(0, PathReason::Complexity { complexity });
    }
    // Self-driven firms (high complexity) and firms with no external driver lead with this path.
    let strength = if complexity == Complexity::High { 3 } else { 2 };
    add("lightweight", mode, strength, r);

    // Strongest first; ties keep the order above (chain, cluster, platform, lightweight).
    out.sort_by_key(|m| std::cmp::Reverse(m.strength));
    if let Some(first) = out.first_mut() {
        first.primary = true;
    }
    out
}
