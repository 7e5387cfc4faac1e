//! ACTUS enumerations: contract types, roles and the small closed code lists of the dictionary.

use serde::Serialize;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            /// Parses the ACTUS code (surrounding spaces ignored).
            pub fn from_code(code: &str) -> Option<$name> {
                match code.trim() {
                    $($code $(| $alias)* => Some($name::$var),)+
                    _ => None,
                }
            }

            /// The ACTUS code.
            pub fn code(self) -> &'static str {
                match self { $($name::$var => $code),+ }
            }

            /// Every code, for error messages.
            pub const CODES: &'static [&'static str] = &[$($code),+];
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// ACTUS contract type (`contractType`).
    ContractType {
        /// Principal at maturity (bullet loans, bonds, term deposits).
        Pam = "PAM",
        /// Annuity (constant instalment).
        Ann = "ANN",
        /// Linear amortizer (constant principal).
        Lam = "LAM",
        /// Negative amortizer (constant instalment including interest).
        Nam = "NAM",
        /// Exotic linear amortizer (array schedules).
        Lax = "LAX",
        /// Call money.
        Clm = "CLM",
        /// Undefined maturity profile (non-maturity deposits).
        Ump = "UMP",
        /// Cash.
        Csh = "CSH",
        /// Stock.
        Stk = "STK",
        /// Commodity.
        Com = "COM",
        /// Plain-vanilla interest-rate swap.
        Swppv = "SWPPV",
        /// Swap of two contract legs.
        Swaps = "SWAPS",
        /// Cap/floor.
        Capfl = "CAPFL",
        /// Foreign-exchange outright.
        Fxout = "FXOUT",
        /// Option.
        Optns = "OPTNS",
        /// Future.
        Futur = "FUTUR",
        /// Credit enhancement guarantee.
        Ceg = "CEG",
        /// Credit enhancement collateral.
        Cec = "CEC",
        /// Boundary-controlled switch.
        Bcs = "BCS",
    }
}

code_enum! {
    /// ACTUS contract role (`contractRole`): fixes the sign of payoffs and signed states.
    ContractRole {
        /// Real position asset (lender, investor): sign +1.
        Rpa = "RPA",
        /// Real position liability (borrower, deposit taker, issuer): sign −1.
        Rpl = "RPL",
        /// Receive first leg: +1.
        Rfl = "RFL",
        /// Pay first leg: −1.
        Pfl = "PFL",
        /// Receive fixed: +1.
        Rf = "RF",
        /// Pay fixed: −1.
        Pf = "PF",
        /// Buyer (long): +1.
        Buy = "BUY",
        /// Seller (short): −1.
        Sel = "SEL",
        /// Collateral position: +1.
        Col = "COL",
        /// Close-out netting: +1.
        Cno = "CNO",
        /// Underlying: +1.
        Udl = "UDL",
        /// Underlying, positive: +1.
        Udlp = "UDLP",
        /// Underlying, negative: −1.
        Udlm = "UDLM",
        /// Guarantor: −1.
        Gua = "GUA",
        /// Obligee: +1.
        Obl = "OBL",
        /// Long: +1.
        Lg = "LG",
        /// Short: −1.
        St = "ST",
    }
}

impl ContractRole {
    /// The sign R of the role: +1 for asset-like, −1 for liability-like roles.
    pub fn sign(self) -> f64 {
        use ContractRole::*;
        match self {
            Rpa | Rfl | Rf | Buy | Col | Cno | Udl | Udlp | Obl | Lg => 1.0,
            Rpl | Pfl | Pf | Sel | Udlm | Gua | St => -1.0,
        }
    }
}

code_enum! {
    /// Base on which interest accrues (`interestCalculationBase`).
    InterestCalculationBase {
        /// The outstanding notional.
        Notional = "NT",
        /// The notional at initial exchange.
        NotionalAtInitialExchange = "NTIED",
        /// A lagged notional, re-fixed at IPCB events.
        NotionalLagged = "NTL",
    }
}

code_enum! {
    /// What the scaling index scales (`scalingEffect`): interest, notional, both or neither.
    ScalingEffect {
        /// Neither.
        None = "OOO" | "000",
        /// Interest only.
        Interest = "IOO" | "I00",
        /// Notional only.
        Notional = "ONO" | "0N0",
        /// Interest and notional.
        InterestAndNotional = "INO" | "IN0",
    }
}

impl ScalingEffect {
    /// True when interest payments are scaled.
    pub fn scales_interest(self) -> bool {
        matches!(
            self,
            ScalingEffect::Interest | ScalingEffect::InterestAndNotional
        )
    }

    /// True when the notional is scaled.
    pub fn scales_notional(self) -> bool {
        matches!(
            self,
            ScalingEffect::Notional | ScalingEffect::InterestAndNotional
        )
    }
}

code_enum! {
    /// How fees are set (`feeBasis`).
    FeeBasis {
        /// An absolute amount per fee payment.
        Absolute = "A",
        /// A rate per year on the notional.
        Notional = "N",
    }
}

code_enum! {
    /// Settlement of composite or derivative contracts (`deliverySettlement`).
    DeliverySettlement {
        /// Cash settlement / net.
        Cash = "S",
        /// Physical delivery / gross.
        Delivery = "D",
    }
}

code_enum! {
    /// Option type (`optionType`).
    OptionType {
        /// Call.
        Call = "C",
        /// Put.
        Put = "P",
        /// Call and put (collar / straddle).
        CallPut = "CP",
    }
}

code_enum! {
    /// Option exercise style (`optionExerciseType`).
    OptionExerciseType {
        /// European.
        European = "E",
        /// Bermudan.
        Bermudan = "B",
        /// American.
        American = "A",
    }
}

code_enum! {
    /// Contract performance state (`contractPerformance`).
    ContractPerformance {
        /// Performing.
        Performing = "PF",
        /// Delayed.
        Delayed = "DL",
        /// Delinquent.
        Delinquent = "DQ",
        /// Default.
        Default = "DF",
        /// Matured.
        Matured = "MA",
        /// Terminated.
        Terminated = "TE",
    }
}

code_enum! {
    /// Which part of the covered exposure a credit enhancement covers (`guaranteedExposure`).
    GuaranteedExposure {
        /// Notional only.
        Notional = "NO",
        /// Notional and interest.
        NotionalAndInterest = "NI",
        /// Market value.
        MarketValue = "MV",
    }
}

code_enum! {
    /// Direction of a LAX principal step (`arrayIncreaseDecrease`).
    IncreaseDecrease {
        /// Principal increase (PI event).
        Increase = "INC",
        /// Principal decrease (PR event).
        Decrease = "DEC",
    }
}

code_enum! {
    /// Whether a LAX rate segment is fixed or floating (`arrayFixedVariable`).
    FixedVariable {
        /// Fixed: the segment's rate is set at the reset (RRF).
        Fixed = "F" | "FIX",
        /// Variable: the rate is observed at the reset (RR).
        Variable = "V" | "VAR",
    }
}

code_enum! {
    /// Role of a child in `contractStructure` (`referenceRole`).
    ReferenceRole {
        /// First leg.
        FirstLeg = "FIL",
        /// Second leg.
        SecondLeg = "SEL",
        /// Underlying.
        Underlying = "UDL",
        /// Covered contract.
        Covered = "COVE",
        /// Covering contract.
        Covering = "COVI",
        /// External reference index (BCS).
        ExternalReferenceIndex = "externalReferenceIndex",
    }
}

code_enum! {
    /// Kind of reference in `contractStructure` (`referenceType`).
    ReferenceType {
        /// A full child contract.
        Contract = "CNT",
        /// A contract identifier.
        ContractIdentifier = "CID",
        /// A market object code.
        MarketObjectCode = "MOC",
        /// An external identifier.
        ExternalIdentifier = "EID",
        /// A contract structure.
        ContractStructure = "CST",
    }
}

code_enum! {
    /// ACTUS credit event types covered by an enhancement (`creditEventTypeCovered`).
    CreditEventType {
        /// Delayed.
        Delayed = "DL",
        /// Delinquent.
        Delinquent = "DQ",
        /// Default.
        Default = "DF",
    }
}
