//! The accessors of `Kind` that kinds share, as macros: its label
//! (`labelled!`), and with it a kind of one condition (`one_condition!`) or
//! of a list of them (`condition_list!`).
//! Declared before the kind modules, which use them.

/// `Kind`'s label accessors, for a kind whose field `label` holds its label.
macro_rules! labelled {
    () => {
        fn label(&self) -> Option<&str> {
            self.label.as_deref()
        }

        fn label_mut(&mut self) -> &mut Option<String> {
            &mut self.label
        }
    };
}

/// `Kind`'s label and condition accessors, for a kind whose fields
/// `label` and `condition` name its label and its one experiment.
macro_rules! one_condition {
    () => {
        labelled!();

        fn conditions(&self) -> Vec<&str> {
            vec![&self.condition]
        }

        fn conditions_mut(&mut self) -> Vec<&mut String> {
            vec![&mut self.condition]
        }
    };
}

/// `Kind`'s label and condition accessors, for a kind whose fields `label`
/// and `conditions` name its label and the list of experiments it reads,
/// in which `grid[*]` stands for a grid's points.
macro_rules! condition_list {
    () => {
        labelled!();

        fn conditions(&self) -> Vec<&str> {
            self.conditions.iter().map(String::as_str).collect()
        }

        fn conditions_mut(&mut self) -> Vec<&mut String> {
            self.conditions.iter_mut().collect()
        }

        fn pooled_conditions_mut(&mut self) -> Option<&mut Vec<String>> {
            Some(&mut self.conditions)
        }
    };
}
