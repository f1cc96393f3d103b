//! Rule-based controls after EPANET 2.2's `rules.c`: premises evaluated at each rule step, THEN or ELSE actions
//! collected (one per link, the highest priority winning), and applied when they change something.

use super::hydraulics::Hydraulics;
use super::model::{ActionParams, LinkType, PremiseParams, MISSING, TINY};
use super::network::{LinkStatus, Relation, RuleObject, RuleVariable, ValveKind};
use super::units::Quantity;

impl Hydraulics {
    /// Evaluates every rule at the current time, `dt` seconds after the previous evaluation, and applies the
    /// resulting actions. Returns how many actions changed a link.
    pub(super) fn check_rules(&mut self, dt: i64) -> usize {
        self.rule_time1 = self.htime - dt + 1;
        // (rule index, then/else, action index), newest first as EPANET's linked list.
        let mut list: Vec<(usize, bool, usize)> = Vec::new();
        for r in 0..self.m.rules.len() {
            let holds = self.eval_premises(r);
            let rule = &self.m.rules[r];
            let (then, actions) = if holds {
                (true, &rule.then_actions)
            } else {
                (false, &rule.else_actions)
            };
            for (ai, a) in actions.iter().enumerate() {
                let on_list = list.iter().position(|&(r1, t1, a1)| {
                    let other = &self.m.rules[r1];
                    let oa = if t1 {
                        &other.then_actions[a1]
                    } else {
                        &other.else_actions[a1]
                    };
                    oa.link == a.link
                });
                match on_list {
                    Some(pos) => {
                        let r1 = list[pos].0;
                        if rule.priority > self.m.rules[r1].priority {
                            list[pos] = (r, then, ai);
                        }
                    }
                    None => list.insert(0, (r, then, ai)),
                }
            }
        }
        let mut n = 0;
        for (r, then, ai) in list {
            let rule = &self.m.rules[r];
            let a = if then {
                rule.then_actions[ai].clone()
            } else {
                rule.else_actions[ai].clone()
            };
            if self.take_action(&a) {
                n += 1;
            }
        }
        n
    }

    fn take_action(&mut self, a: &ActionParams) -> bool {
        let k = a.link;
        let s = self.status[k];
        let v = self.setting[k];
        if a.status == Some(LinkStatus::Open) && s.is_closed() {
            self.set_link_status(k, true);
            return true;
        }
        if a.status == Some(LinkStatus::Closed) && !s.is_closed() {
            self.set_link_status(k, false);
            return true;
        }
        if a.setting != MISSING {
            let u = &self.m.units;
            let x = match self.m.ltype[k] {
                LinkType::Valve(ValveKind::Prv | ValveKind::Psv | ValveKind::Pbv) => {
                    a.setting / u.ucf(Quantity::Pressure)
                }
                LinkType::Valve(ValveKind::Fcv) => a.setting / u.ucf(Quantity::Flow),
                _ => a.setting,
            };
            if (x - v).abs() > 1e-3 {
                self.set_link_setting(k, x);
                return true;
            }
        }
        false
    }

    fn eval_premises(&self, r: usize) -> bool {
        let mut result = true;
        for p in &self.m.rules[r].premises {
            if p.or {
                if !result {
                    result = self.check_premise(p);
                }
            } else {
                if !result {
                    return false;
                }
                result = self.check_premise(p);
            }
        }
        result
    }

    fn check_premise(&self, p: &PremiseParams) -> bool {
        match p.variable {
            RuleVariable::Time | RuleVariable::ClockTime => self.check_time(p),
            _ if p.status.is_some() => self.check_status(p),
            _ => self.check_value(p),
        }
    }

    fn check_time(&self, p: &PremiseParams) -> bool {
        let (t1, t2) = if p.variable == RuleVariable::Time {
            (self.rule_time1, self.htime)
        } else {
            (
                (self.rule_time1 + self.m.tstart).rem_euclid(86_400),
                (self.htime + self.m.tstart).rem_euclid(86_400),
            )
        };
        let x = p.value as i64;
        match p.relation {
            Relation::Lt => t2 < x,
            Relation::Le => t2 <= x,
            Relation::Gt => t2 > x,
            Relation::Ge => t2 >= x,
            Relation::Eq | Relation::Ne => {
                let within = if t2 < t1 {
                    x >= t1 || x <= t2
                } else {
                    x >= t1 && x <= t2
                };
                (p.relation == Relation::Eq) == within
            }
        }
    }

    fn check_status(&self, p: &PremiseParams) -> bool {
        let RuleObject::Link(k) = p.object else {
            return false;
        };
        let s = self.status[k];
        let j = if s.is_closed() {
            LinkStatus::Closed
        } else if s == super::model::Status::Active {
            LinkStatus::Active
        } else {
            LinkStatus::Open
        };
        match p.relation {
            Relation::Eq => Some(j) == p.status,
            Relation::Ne => Some(j) != p.status,
            _ => false,
        }
    }

    fn check_value(&self, p: &PremiseParams) -> bool {
        let u = &self.m.units;
        let nj = self.m.njuncs;
        let node = match p.object {
            RuleObject::Node(i) => i,
            _ => usize::MAX,
        };
        let link = match p.object {
            RuleObject::Link(k) => k,
            _ => usize::MAX,
        };
        let x = match p.variable {
            RuleVariable::Demand => {
                if p.object == RuleObject::System {
                    self.dsystem * u.ucf(Quantity::Flow)
                } else {
                    self.node_demand[node] * u.ucf(Quantity::Flow)
                }
            }
            RuleVariable::Head | RuleVariable::Grade => self.head[node] * u.ucf(Quantity::Length),
            RuleVariable::Pressure => {
                (self.head[node] - self.m.el[node]) * u.ucf(Quantity::Pressure)
            }
            RuleVariable::Level => (self.head[node] - self.m.el[node]) * u.ucf(Quantity::Length),
            RuleVariable::Flow => self.flow[link].abs() * u.ucf(Quantity::Flow),
            RuleVariable::Setting => {
                if self.setting[link] == MISSING {
                    return false;
                }
                let s = self.setting[link];
                match self.m.ltype[link] {
                    LinkType::Valve(ValveKind::Prv | ValveKind::Psv | ValveKind::Pbv) => {
                        s * u.ucf(Quantity::Pressure)
                    }
                    LinkType::Valve(ValveKind::Fcv) => s * u.ucf(Quantity::Flow),
                    _ => s,
                }
            }
            RuleVariable::FillTime => {
                if node < nj {
                    return false;
                }
                let t = &self.m.tanks[node - nj];
                if t.area == 0.0 || self.node_demand[node] <= TINY {
                    return false;
                }
                (t.vmax - self.tank_v[node - nj]) / self.node_demand[node]
            }
            RuleVariable::DrainTime => {
                if node < nj {
                    return false;
                }
                let t = &self.m.tanks[node - nj];
                if t.area == 0.0 || self.node_demand[node] >= -TINY {
                    return false;
                }
                (t.vmin - self.tank_v[node - nj]) / self.node_demand[node]
            }
            _ => return false,
        };
        let tol = 1e-3;
        let v = p.value;
        match p.relation {
            Relation::Eq => (x - v).abs() <= tol,
            Relation::Ne => (x - v).abs() >= tol,
            Relation::Lt => x <= v + tol,
            Relation::Le => x <= v - tol,
            Relation::Gt => x >= v - tol,
            Relation::Ge => x >= v + tol,
        }
    }
}
