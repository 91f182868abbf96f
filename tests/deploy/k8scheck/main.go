// k8scheck validates Kubernetes manifests and Helm values offline, against the Go types the API server and
// prometheus-operator decode them into (k8s.io/api, prometheus-operator's monitoring/v1): every document is
// decoded strictly (an unknown or misspelt field, or a wrong type, is an error) and then checked the way the
// API server checks names, labels, annotations and ConfigMap keys, plus the size limits that bite at apply
// time. It prints one line per document and exits 1 on the first file with a problem.
//
//	k8scheck manifests deploy/kubernetes/prometheus-rules.yaml ...   ConfigMap and PrometheusRule documents
//	                                                                 (and what the chart renders: Deployment,
//	                                                                 Service, ServiceAccount, ServiceMonitor)
//	k8scheck helm-values deploy/kubernetes/collector-values.yaml     the chart keys that are Kubernetes types
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	yamlv2 "go.yaml.in/yaml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// kubectl's client-side apply keeps the whole object in an annotation, and annotations are limited to this.
const lastAppliedLimit = 256 * 1024

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: k8scheck manifests|helm-values FILE...")
		os.Exit(2)
	}
	mode, files := os.Args[1], os.Args[2:]
	if mode != "manifests" && mode != "helm-values" {
		fmt.Fprintf(os.Stderr, "k8scheck: unknown mode %q\n", mode)
		os.Exit(2)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			if mode == "manifests" {
				err = checkManifests(file, data)
			} else {
				var what string
				what, err = checkHelmValues(data)
				if err == nil {
					fmt.Printf("%s: %s\n", file, what)
				}
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8scheck: %s: %v\n", file, err)
			os.Exit(1)
		}
	}
}

// documents splits a multi-document YAML stream (comments and empty documents dropped).
func documents(data []byte) ([][]byte, error) {
	var out [][]byte
	decoder := yamlv2.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if doc == nil {
			continue
		}
		raw, err := yamlv2.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
}

func checkManifests(file string, data []byte) error {
	docs, err := documents(data)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return errors.New("no Kubernetes object in the file")
	}
	for i, doc := range docs {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		var what string
		switch {
		case meta.APIVersion == "v1" && meta.Kind == "ConfigMap":
			what, err = checkConfigMap(doc)
		case meta.APIVersion == monitoringv1.SchemeGroupVersion.String() && meta.Kind == monitoringv1.PrometheusRuleKind:
			what, err = checkPrometheusRule(doc)
		case meta.APIVersion == "apps/v1" && meta.Kind == "Deployment":
			what, err = checkStrict(doc, &appsv1.Deployment{})
		case meta.APIVersion == "v1" && meta.Kind == "Service":
			what, err = checkStrict(doc, &corev1.Service{})
		case meta.APIVersion == "v1" && meta.Kind == "ServiceAccount":
			what, err = checkStrict(doc, &corev1.ServiceAccount{})
		case meta.APIVersion == monitoringv1.SchemeGroupVersion.String() && meta.Kind == monitoringv1.ServiceMonitorsKind:
			what, err = checkStrict(doc, &monitoringv1.ServiceMonitor{})
		default:
			err = fmt.Errorf("unexpected apiVersion/kind %q/%q", meta.APIVersion, meta.Kind)
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(doc) > lastAppliedLimit {
			return fmt.Errorf("document %d (%s) is %d bytes: too big for kubectl apply's last-applied annotation", i+1, what, len(doc))
		}
		fmt.Printf("%s: %s\n", file, what)
	}
	return nil
}

// checkObjectMeta: every kind here is namespaced, and a namespace is optional (kubectl -n gives it).
func checkObjectMeta(meta *metav1.ObjectMeta) field.ErrorList {
	return apivalidation.ValidateObjectMeta(meta, meta.Namespace != "", apivalidation.NameIsDNSSubdomain,
		field.NewPath("metadata"))
}

// object is what every Kubernetes object type has: its ObjectMeta.
type object interface{ GetObjectMeta() metav1.Object }

// checkStrict decodes the other kinds a chart renders (Deployment, Service, ServiceAccount, ServiceMonitor)
// strictly and checks their metadata.
func checkStrict(doc []byte, into object) (string, error) {
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		return "", err
	}
	meta, ok := into.GetObjectMeta().(*metav1.ObjectMeta)
	if !ok {
		return "", errors.New("no ObjectMeta")
	}
	if errs := checkObjectMeta(meta); len(errs) > 0 {
		return "", fmt.Errorf("%s: %w", meta.Name, errs.ToAggregate())
	}
	return fmt.Sprintf("%T %s", into, meta.Name), nil
}

func checkConfigMap(doc []byte) (string, error) {
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(doc, &cm); err != nil {
		return "", fmt.Errorf("ConfigMap: %w", err)
	}
	errs := checkObjectMeta(&cm.ObjectMeta)
	size := 0
	for key, value := range cm.Data {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
		}
		size += len(key) + len(value)
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", corev1.MaxSecretSize))
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("ConfigMap %s: %w", cm.Name, errs.ToAggregate())
	}
	return fmt.Sprintf("ConfigMap %s (%d keys, %d bytes, labels %v)", cm.Name, len(cm.Data), size, cm.Labels), nil
}

func checkPrometheusRule(doc []byte) (string, error) {
	var rule monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(doc, &rule); err != nil {
		return "", fmt.Errorf("PrometheusRule: %w", err)
	}
	errs := checkObjectMeta(&rule.ObjectMeta)
	rules := 0
	groups := map[string]bool{}
	for g, group := range rule.Spec.Groups {
		path := field.NewPath("spec", "groups").Index(g)
		if group.Name == "" || groups[group.Name] {
			errs = append(errs, field.Invalid(path.Child("name"), group.Name, "must be set and unique"))
		}
		groups[group.Name] = true
		if len(group.Rules) == 0 {
			errs = append(errs, field.Required(path.Child("rules"), "a group without rules"))
		}
		for r, item := range group.Rules {
			rpath := path.Child("rules").Index(r)
			if (item.Record == "") == (item.Alert == "") {
				errs = append(errs, field.Invalid(rpath, item, "exactly one of record and alert"))
			}
			if strings.TrimSpace(item.Expr.String()) == "" {
				errs = append(errs, field.Required(rpath.Child("expr"), ""))
			}
			for name := range item.Labels {
				errs = append(errs, metavalidation.ValidateLabelName(name, rpath.Child("labels"))...)
			}
			rules++
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("PrometheusRule %s: %w", rule.Name, errs.ToAggregate())
	}
	return fmt.Sprintf("PrometheusRule %s (%d groups, %d rules, labels %v)", rule.Name, len(rule.Spec.Groups), rules, rule.Labels), nil
}

// helmValues holds the keys of the opentelemetry-collector chart's values that the chart copies into the
// pod spec as they are; the other keys are the chart's own and are checked by the chart.
type helmValues struct {
	ExtraEnvs          []corev1.EnvVar             `json:"extraEnvs"`
	ExtraEnvsFrom      []corev1.EnvFromSource      `json:"extraEnvsFrom"`
	ExtraVolumes       []corev1.Volume             `json:"extraVolumes"`
	ExtraVolumeMounts  []corev1.VolumeMount        `json:"extraVolumeMounts"`
	Resources          corev1.ResourceRequirements `json:"resources"`
	PodSecurityContext *corev1.PodSecurityContext  `json:"podSecurityContext"`
	SecurityContext    *corev1.SecurityContext     `json:"securityContext"`
	LivenessProbe      *corev1.Probe               `json:"livenessProbe"`
	ReadinessProbe     *corev1.Probe               `json:"readinessProbe"`
}

func checkHelmValues(data []byte) (string, error) {
	var values helmValues
	if err := yaml.Unmarshal(data, &values); err != nil {
		return "", err
	}
	// Strict per key: an unknown field inside one of these Kubernetes types is an error.
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return "", err
	}
	for key, target := range map[string]any{
		"extraEnvs": &[]corev1.EnvVar{}, "extraEnvsFrom": &[]corev1.EnvFromSource{},
		"extraVolumes": &[]corev1.Volume{}, "extraVolumeMounts": &[]corev1.VolumeMount{},
		"resources": &corev1.ResourceRequirements{}, "podSecurityContext": &corev1.PodSecurityContext{},
		"securityContext": &corev1.SecurityContext{}, "livenessProbe": &corev1.Probe{},
		"readinessProbe": &corev1.Probe{},
	} {
		value, ok := raw[key]
		if !ok {
			continue
		}
		encoded, err := yaml.Marshal(value)
		if err == nil {
			err = yaml.UnmarshalStrict(encoded, target)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
	}
	var errs field.ErrorList
	env := map[string]bool{}
	for i, e := range values.ExtraEnvs {
		path := field.NewPath("extraEnvs").Index(i)
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), e.Name, msg))
		}
		if env[e.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), e.Name))
		}
		env[e.Name] = true
		if e.Value != "" && e.ValueFrom != nil {
			errs = append(errs, field.Invalid(path, e.Name, "value and valueFrom are exclusive"))
		}
	}
	volumes := map[string]bool{}
	for i, v := range values.ExtraVolumes {
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, field.Invalid(field.NewPath("extraVolumes").Index(i).Child("name"), v.Name, msg))
		}
		volumes[v.Name] = true
	}
	for i, m := range values.ExtraVolumeMounts {
		path := field.NewPath("extraVolumeMounts").Index(i)
		if !volumes[m.Name] {
			errs = append(errs, field.NotFound(path.Child("name"), m.Name))
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			errs = append(errs, field.Invalid(path.Child("mountPath"), m.MountPath, "must be absolute"))
		}
	}
	if len(errs) > 0 {
		return "", errs.ToAggregate()
	}
	return fmt.Sprintf("helm values (%d env, %d volumes, %d mounts)", len(values.ExtraEnvs), len(values.ExtraVolumes), len(values.ExtraVolumeMounts)), nil
}
